import { followLink, VIEWS, type ViewId } from '../state/route.ts';

/** The pages of the dashboard as tabs; each is a real link, so it can open in a new tab too. */
export function TabBar({ current }: { current: ViewId }) {
  return (
    <nav class="tabs" aria-label="Pages">
      {VIEWS.map((view) => (
        <a
          key={view.id}
          href={view.path}
          class="tab"
          data-view={view.id}
          aria-current={view.id === current ? 'page' : undefined}
          onClick={(event) => {
            if (view.id === current) event.preventDefault();
            else followLink(event);
          }}
        >
          {view.label}
        </a>
      ))}
    </nav>
  );
}
