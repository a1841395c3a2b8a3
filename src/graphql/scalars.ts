import { BadUserInputError } from './errors.ts';

/** ISO 8601, UTC, milliseconds: the one time format the API speaks. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoTimeOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Whether the date part names a day of the calendar: Date.parse rolls 02-30 over to March. */
function isCalendarDate(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export function parseIsoTime(value: string, field: string): number {
  const ms = ISO_8601.test(value) && isCalendarDate(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new BadUserInputError([
      { field, problem: `"${value.slice(0, 40)}" is not an ISO 8601 time` },
    ]);
  }
  return ms;
}

/** GraphQL IDs of messages are their row ids; anything else cannot name a message. */
export function parseMessageId(id: string): number | null {
  return /^[1-9]\d{0,15}$/.test(id) ? Number(id) : null;
}
