/**
 * The lines of one SMTP dialogue, kept cheaply while it runs and turned into text only when
 * someone wants to read it. `transcript-recorder.ts` decides which lines belong to which send.
 */

/** What a transcript may grow to once formatted, in UTF-8 bytes. */
export const TRANSCRIPT_MAX_BYTES = 4_096;
/** Of that, the share kept from the start; the rest goes to the end, where the failure is. */
const HEAD_BYTES = 1_024;
/** A longer line (a huge EHLO reply, say) is cut: no single line may crowd out the rest. */
const MAX_LINE_CHARS = 512;
/** Entries a buffer holds before it drops the middle; far above a normal dialogue. */
const MAX_ENTRIES = 96;
const KEEP_HEAD_ENTRIES = 24;

const CLIENT = 0;
const SERVER = 1;
const BODY = 2;
const OMITTED = 3;
type Kind = typeof CLIENT | typeof SERVER | typeof BODY | typeof OMITTED;

/**
 * Lines in the order they crossed the wire, stored as raw (kind, value) pairs: recording one is
 * two array pushes, no string is built until `format` runs. Bounded: past `MAX_ENTRIES` the
 * middle is dropped and counted.
 */
export class TranscriptLines {
  #entries: (Kind | string | number)[] = [];

  get length(): number {
    return this.#entries.length / 2;
  }

  /** A command as sent; `text` must already have any credentials replaced. */
  client(text: string): void {
    this.#push(CLIENT, text);
  }

  /** A reply as received; multi-line replies arrive as one string with `\n` inside. */
  server(text: string): void {
    this.#push(SERVER, text);
  }

  /** The message itself, which is never recorded, only its size. */
  body(bytes: number): void {
    this.#push(BODY, bytes);
  }

  /** Appends this buffer's lines, formatted, to `out`. */
  formatInto(out: string[]): void {
    const entries = this.#entries;
    for (let i = 0; i < entries.length; i += 2) {
      const kind = entries[i] as Kind;
      const value = entries[i + 1]!;
      switch (kind) {
        case CLIENT:
          out.push(`C: ${value as string}`);
          break;
        case SERVER:
          for (const line of (value as string).split(/\r?\n/)) out.push(`S: ${line}`);
          break;
        case BODY:
          out.push(`C: <message body, ${value as number} bytes>`);
          break;
        case OMITTED:
          out.push(omittedMarker(value as number));
          break;
      }
    }
  }

  #push(kind: Kind, value: string | number): void {
    if (this.#entries.length >= MAX_ENTRIES * 2) this.#dropMiddle();
    this.#entries.push(kind, value);
  }

  /** Keeps the first `KEEP_HEAD_ENTRIES` and the newer half of the rest, counting what went. */
  #dropMiddle(): void {
    const entries = this.#entries;
    const markerAt = KEEP_HEAD_ENTRIES * 2;
    const hasMarker = entries[markerAt] === OMITTED;
    const from = hasMarker ? markerAt + 2 : markerAt;
    const to = from + Math.floor((entries.length - from) / 4) * 2;
    let bytes = hasMarker ? (entries[markerAt + 1] as number) : 0;
    for (let i = from; i < to; i += 2) {
      const value = entries[i + 1]!;
      bytes += typeof value === 'string' ? Buffer.byteLength(value) + 4 : 0;
    }
    if (hasMarker) {
      entries.splice(from, to - from);
      entries[markerAt + 1] = bytes;
    } else {
      entries.splice(from, to - from, OMITTED, bytes);
    }
  }
}

export interface TranscriptParts {
  /** The connection's greeting, EHLO, STARTTLS and AUTH, shared by every send on it. */
  setup: TranscriptLines | null;
  /** A line between the setup and this send's lines, e.g. "(connection #2 reused …)". */
  note: string | null;
  /** This send's own lines, from MAIL FROM to the reply to its end of data. */
  lines: TranscriptLines | null;
  /** A last line for a failure that was not a server reply, e.g. "(failed: Timeout …)". */
  outcome: string | null;
}

/**
 * Joins the parts into text of at most `maxBytes` (about; a line is never split), keeping the
 * head and the tail around a `… N bytes omitted …` marker. `redact` runs on every line: the
 * server may echo what it was sent.
 */
export function formatTranscript(
  parts: TranscriptParts,
  redact: (text: string) => string,
  maxBytes = TRANSCRIPT_MAX_BYTES,
): string {
  const raw: string[] = [];
  parts.setup?.formatInto(raw);
  if (parts.note !== null) raw.push(parts.note);
  parts.lines?.formatInto(raw);
  if (parts.outcome !== null) raw.push(parts.outcome);

  const lines = raw.map((line) => {
    const clean = redact(line);
    return clean.length > MAX_LINE_CHARS ? `${clean.slice(0, MAX_LINE_CHARS)}…` : clean;
  });
  const sizes = lines.map((line) => Buffer.byteLength(line) + 1);
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (total <= maxBytes) return lines.join('\n');

  const headBudget = Math.min(HEAD_BYTES, Math.floor(maxBytes / 4));
  const tailBudget = maxBytes - headBudget - omittedMarker(total).length - 1;
  let tailStart = lines.length;
  for (let used = 0; tailStart > 0 && used + sizes[tailStart - 1]! <= tailBudget;) {
    used += sizes[--tailStart]!;
  }
  // The last line is what failed: it stays even when it alone is over budget.
  if (tailStart === lines.length) tailStart = lines.length - 1;
  let headEnd = 0;
  for (let used = 0; headEnd < tailStart && used + sizes[headEnd]! <= headBudget;) {
    used += sizes[headEnd++]!;
  }
  let omitted = 0;
  for (let i = headEnd; i < tailStart; i++) omitted += sizes[i]!;
  if (omitted === 0) return lines.join('\n');
  return [...lines.slice(0, headEnd), omittedMarker(omitted), ...lines.slice(tailStart)].join('\n');
}

function omittedMarker(bytes: number): string {
  return `… ${bytes} bytes omitted …`;
}
