import { setImmediate as nextTurn } from 'node:timers/promises';

export interface PacedJsonOptions {
  /** Time spent serialising between two turns of the event loop at most. @default 8 */
  msPerTurn?: number;
  now?: () => number;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  typeof (value as { toJSON?: unknown }).toJSON !== 'function';

/**
 * JSON.stringify of a GraphQL result, giving the event loop back between the items of its lists.
 * A 6 MB answer took one 20-70 ms block to serialise on a loaded machine, and one at the
 * 16 MiB response limit would take longer than /healthz may wait. Items are serialised whole
 * with JSON.stringify (one message with its events and dispatches is small); the objects and
 * lists above them are walked. The output is byte for byte what JSON.stringify gives.
 */
/**
 * Whether `value` may take long to serialise: a list of more than `SMALL_LIST` items, or more
 * than `SMALL_NODES` objects and lists in all. Most answers (a sendEmail, a page of 50) are
 * neither and are serialised in one go, which is ten times cheaper than slicing.
 */
function isLarge(value: unknown): boolean {
  let nodes = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== 'object' || item === null) continue;
    if (++nodes > SMALL_NODES) return true;
    if (Array.isArray(item)) {
      if (item.length > SMALL_LIST) return true;
      stack.push(...item);
    } else {
      for (const key in item) stack.push((item as Record<string, unknown>)[key]);
    }
  }
  return false;
}

const SMALL_LIST = 64;
const SMALL_NODES = 1_000;

export async function stringifyPaced(
  value: unknown,
  options: PacedJsonOptions = {},
): Promise<string> {
  if (!isLarge(value)) return JSON.stringify(value);
  const msPerTurn = options.msPerTurn ?? 8;
  const now = options.now ?? performance.now.bind(performance);
  const parts: string[] = [];
  let turnStartedAt = now();

  async function breathe(): Promise<void> {
    if (now() - turnStartedAt < msPerTurn) return;
    await nextTurn();
    turnStartedAt = now();
  }

  async function write(item: unknown): Promise<void> {
    if (Array.isArray(item)) {
      parts.push('[');
      for (let i = 0; i < item.length; i++) {
        if (i > 0) parts.push(',');
        // As JSON.stringify: what has no JSON form is null inside a list.
        parts.push(JSON.stringify(item[i]) ?? 'null');
        await breathe();
      }
      parts.push(']');
      return;
    }
    if (isPlainObject(item)) {
      parts.push('{');
      let first = true;
      for (const [key, field] of Object.entries(item)) {
        const text = isPlainObject(field) || Array.isArray(field) ? null : JSON.stringify(field);
        // As JSON.stringify: fields without a JSON form (undefined, functions) are left out.
        if (text === undefined) continue;
        parts.push(first ? '' : ',', JSON.stringify(key), ':');
        first = false;
        if (text === null) await write(field);
        else parts.push(text);
      }
      parts.push('}');
      return;
    }
    parts.push(JSON.stringify(item) ?? 'null');
  }

  await write(value);
  return parts.join('');
}
