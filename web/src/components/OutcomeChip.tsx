import type { BounceType, DeliveryOutcome } from '../api/types.ts';
import { outcomeLabel } from '../state/format.ts';

/** What delivery reports said after SENT; keyed by outcome where used, like StatusChip. */
export function OutcomeChip({
  outcome,
  bounceType = null,
}: {
  outcome: DeliveryOutcome;
  bounceType?: BounceType | null;
}) {
  return (
    <span class={`outcome outcome-${outcome.toLowerCase()}`} data-outcome={outcome}>
      {outcomeLabel(outcome)}
      {bounceType && <span class="outcome-type"> · {bounceType.toLowerCase()}</span>}
    </span>
  );
}
