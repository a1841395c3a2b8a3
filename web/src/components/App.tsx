import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { VIEWER_QUERY } from '../api/documents.ts';
import { graphql, GraphQLRequestError } from '../api/http.ts';
import { authEpoch, tokenForbidden } from '../api/token.ts';
import type { Scope } from '../api/types.ts';
import { currentView, type ViewId } from '../state/route.ts';
import { useStore } from '../state/store.ts';
import { Header } from './Header.tsx';
import { MessagesPage } from './MessagesPage.tsx';
import { SuppressionsPage } from './SuppressionsPage.tsx';
import { TabBar } from './TabBar.tsx';
import { TokenDialog } from './TokenDialog.tsx';
import { WebhooksPage } from './WebhooksPage.tsx';

interface PageProps {
  epoch: number;
  /** The token may change things (ADMIN); until the scope is known, it may not. */
  canWrite: boolean;
}

/** One component per entry of VIEWS (state/route.ts). */
const PAGES: Record<ViewId, (props: PageProps) => JSX.Element> = {
  messages: MessagesPage,
  suppressions: SuppressionsPage,
  webhooks: WebhooksPage,
};

export function App() {
  const epoch = useStore(authEpoch);
  const view = useStore(currentView);
  const [scope, setScope] = useState<Scope | null>(null);

  useEffect(() => {
    graphql<{ viewer: { scope: Scope } }>(VIEWER_QUERY).then(
      ({ viewer }) => setScope(viewer.scope),
      (error: unknown) => {
        setScope(null);
        // Even `viewer` is closed to a SEND token: say so now rather than through every panel.
        if (error instanceof GraphQLRequestError && error.code === 'FORBIDDEN') tokenForbidden();
      },
    );
  }, [epoch]);
  // Until the scope is known, nothing that changes state is offered.
  const canWrite = scope === 'ADMIN';
  const Page = PAGES[view];

  return (
    <div class="layout">
      <Header scope={scope} />
      <TabBar current={view} />
      <Page key={view} epoch={epoch} canWrite={canWrite} />
      <TokenDialog />
    </div>
  );
}
