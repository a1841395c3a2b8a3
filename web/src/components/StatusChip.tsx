import type { MessageStatus } from '../api/types.ts';
import { statusLabel } from '../state/format.ts';

/** Keyed by status where it is used, so a change re-mounts it and its entrance animation plays. */
export function StatusChip({ status }: { status: MessageStatus }) {
  return (
    <span class={`chip chip-${status.toLowerCase()}`} data-status={status}>
      {statusLabel(status)}
    </span>
  );
}
