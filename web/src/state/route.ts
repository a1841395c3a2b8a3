import { createStore } from './store.ts';

/**
 * The dashboard's pages, in tab order. A page is a path the service answers with the app (any
 * path without a file extension); add one here and give it a component in App's PAGES.
 */
export const VIEWS = [
  { id: 'messages', path: '/', label: 'Messages' },
  { id: 'suppressions', path: '/suppressions', label: 'Suppressions' },
  // Not /webhooks: the server answers that path for providers' incoming webhooks.
  { id: 'webhooks', path: '/outgoing-webhooks', label: 'Webhooks' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

export function viewForPath(pathname: string): ViewId {
  const path = pathname.replace(/\/+$/, '') || '/';
  return VIEWS.find((view) => view.path === path)?.id ?? 'messages';
}

/** The page shown; follows the address bar (links, back and forward). */
export const currentView = createStore<ViewId>(viewForPath(location.pathname));

addEventListener('popstate', () => currentView.set(viewForPath(location.pathname)));

/** Goes to `href` (a path with an optional query) without reloading the page. */
export function navigate(href: string): void {
  if (`${location.pathname}${location.search}` !== href) history.pushState(null, '', href);
  currentView.set(viewForPath(location.pathname));
}

/** onClick for an in-app link: a plain click navigates here, a modified one opens a tab. */
export function followLink(event: MouseEvent): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  const target = event.currentTarget as HTMLAnchorElement;
  event.preventDefault();
  navigate(target.getAttribute('href') ?? '/');
}
