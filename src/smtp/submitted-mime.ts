import addressparser from 'nodemailer/lib/addressparser';

// Reading a message submitted over SMTP: only what mailscope needs to show it (subject, first
// text and html parts, custom headers, From) and to send it (Bcc removed; Message-ID, Date and
// From added when missing). The bytes are otherwise kept exactly as the client sent them.

export interface RawHeader {
  /** As written, e.g. "Subject". */
  name: string;
  /** Unfolded, not decoded. */
  value: string;
}

export interface SubmittedMime {
  /** The bytes to store and send: the submitted message, Bcc removed, missing fields added. */
  raw: Buffer;
  /** The Message-ID header's value, "<…>" (added when the message had none). */
  messageId: string;
  /** Decoded Subject; '' when absent. */
  subject: string;
  /** The first text/plain part, decoded; null when there is none. */
  text: string | null;
  /** The first text/html part, decoded; null when there is none. */
  html: string | null;
  /**
   * The From header's addresses (bare `local@domain`), lower-cased domain kept as written; the
   * envelope sender when the message had no From and one was given; empty when neither.
   */
  fromAddresses: string[];
  /** Every domain the From headers could be read as naming (domainsNamedIn), lower-cased. */
  fromDomains: string[];
  /** Every header of the top level, in order, unfolded and not decoded. */
  headers: RawHeader[];
  /**
   * Why the header section cannot be sent as it is, or null: more than one From (RFC 5322
   * allows one; receivers refuse the rest, and a second From would slip past the sender domain
   * allowlist), or a bare CR (a line break to some readers and not to others: a header hidden
   * inside another would come out as one of its own once the line endings are mended).
   */
  headerProblem: string | null;
}

/** Where the header block ends: the index of the blank line's first byte, and the body's start. */
function headerEnd(raw: Buffer): { end: number; bodyStart: number } {
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x0a) continue;
    if (raw[i + 1] === 0x0a) return { end: i + 1, bodyStart: i + 2 };
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) return { end: i + 1, bodyStart: i + 3 };
  }
  return { end: raw.length, bodyStart: raw.length };
}

interface HeaderLine extends RawHeader {
  /** Byte range of the whole field in the buffer, continuation lines and line break included. */
  start: number;
  stop: number;
}

function headerLines(raw: Buffer, end: number): HeaderLine[] {
  const lines: HeaderLine[] = [];
  let position = 0;
  while (position < end) {
    let stop = raw.indexOf(0x0a, position);
    stop = stop === -1 || stop >= end ? end : stop + 1;
    // Continuation lines start with a space or a tab.
    while (stop < end && (raw[stop] === 0x20 || raw[stop] === 0x09)) {
      const next = raw.indexOf(0x0a, stop);
      stop = next === -1 || next >= end ? end : next + 1;
    }
    const field = raw.toString('utf8', position, stop);
    const colon = field.indexOf(':');
    if (colon > 0) {
      lines.push({
        name: field.slice(0, colon).trim(),
        value: field
          .slice(colon + 1)
          .replace(/\r?\n[ \t]/g, ' ')
          .replace(/\r?\n$/, '')
          .trim(),
        start: position,
        stop,
      });
    }
    position = stop;
  }
  return lines;
}

/** Unfolded headers of a header block given as text. */
function parseHeaderText(text: string): RawHeader[] {
  const buffer = Buffer.from(text, 'utf8');
  return headerLines(buffer, buffer.length).map(({ name, value }) => ({ name, value }));
}

function charsetDecode(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

function quotedPrintable(text: string, inHeader: boolean): Buffer {
  const source = inHeader ? text.replace(/_/g, ' ') : text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    const hex = source.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words decoded; adjacent encoded words join without the space between. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?[^?]+\?[BbQq]\?[^?]*\?=)/g, '$1')
    .replace(/=\?([^?*]+)(?:\*[^?]*)?\?([BbQq])\?([^?]*)\?=/g, (_all, charset, encoding, text) => {
      const bytes =
        encoding.toUpperCase() === 'B'
          ? Buffer.from(text as string, 'base64')
          : quotedPrintable(text as string, true);
      return charsetDecode(bytes, charset as string);
    });
}

/** A header parameter, e.g. `boundary` of Content-Type; null when absent. */
function parameter(value: string, name: string): string | null {
  const match = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return match ? (match[1] ?? match[2] ?? null) : null;
}

/** Headers that name recipients the message must not show: removed before it is stored. */
const BLIND = new Set(['bcc', 'resent-bcc']);

function header(headers: readonly RawHeader[], name: string): string | null {
  const lower = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === lower)?.value ?? null;
}

/** The first text/plain and text/html parts of an entity (depth-first, as mail clients show). */
function textParts(
  headers: readonly RawHeader[],
  body: Buffer,
  found: { text: string | null; html: string | null },
  depth = 0,
): void {
  if (depth > 20 || (found.text !== null && found.html !== null)) return;
  const type = header(headers, 'content-type') ?? 'text/plain';
  const mediaType = type.split(';')[0]!.trim().toLowerCase();
  if (mediaType.startsWith('multipart/')) {
    const boundary = parameter(type, 'boundary');
    if (boundary === null) return;
    const text = body.toString('latin1');
    const delimiter = `--${boundary}`;
    const parts = text.split(
      new RegExp(`\\r?\\n?${escapeRegExp(delimiter)}(?:--)?[ \\t]*\\r?\\n?`),
    );
    // parts[0] is the preamble, the last one the epilogue.
    for (const part of parts.slice(1, -1)) {
      const bytes = Buffer.from(part, 'latin1');
      const { end, bodyStart } = headerEnd(bytes);
      const partHeaders = parseHeaderText(bytes.toString('utf8', 0, end));
      textParts(partHeaders, bytes.subarray(bodyStart), found, depth + 1);
    }
    return;
  }
  const disposition = (header(headers, 'content-disposition') ?? '').toLowerCase();
  if (disposition.startsWith('attachment')) return;
  if (mediaType !== 'text/plain' && mediaType !== 'text/html') return;
  const key = mediaType === 'text/plain' ? 'text' : 'html';
  if (found[key] !== null) return;
  const encoding = (header(headers, 'content-transfer-encoding') ?? '7bit').toLowerCase().trim();
  const bytes =
    encoding === 'base64'
      ? Buffer.from(body.toString('latin1').replace(/\s+/g, ''), 'base64')
      : encoding === 'quoted-printable'
        ? quotedPrintable(body.toString('latin1'), false)
        : body;
  found[key] = charsetDecode(bytes, parameter(type, 'charset') ?? 'utf-8');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Bare addresses in an address-list header (display names, comments and groups dropped). */
export function addressesIn(value: string): string[] {
  return addressparser(value, { flatten: true })
    .map((mailbox) => mailbox.address.trim())
    .filter((address) => address.includes('@'));
}

/**
 * Every domain an address-list header could be read as naming. Readers disagree on odd values
 * (`boss@evil.com (x <app@example.com>)`, `boss@evil.com app@example.com`): one takes one
 * address, another the other. So besides the parsed addresses, every `@domain` outside a quoted
 * display name counts, and a check of the sender's domain passes only when all of them do.
 */
export function domainsNamedIn(value: string): string[] {
  const domains = new Set(addressesIn(value).map((address) => domainOf(address)));
  const unquoted = value.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const match of unquoted.matchAll(/@(\[[^\]]*\]|[^\s<>()[\],;:"\\@]+)/g)) {
    domains.add(match[1]!.toLowerCase());
  }
  return [...domains];
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

export interface ReadOptions {
  /** Makes a Message-ID for a message that has none. */
  newMessageId: () => string;
  now?: () => Date;
  /**
   * The envelope sender (MAIL FROM), null for the null sender `<>`: a message without a From
   * header gets `From: <sender>`, as Postfix does for its own clients. RFC 5322 requires a From,
   * and the large mailbox providers refuse mail without one.
   */
  envelopeSender?: string | null;
}

/** Reads a submitted message and prepares the bytes that will be stored and sent. */
export function readSubmittedMime(submitted: Buffer, options: ReadOptions): SubmittedMime {
  const { end, bodyStart } = headerEnd(submitted);
  const lines = headerLines(submitted, end);
  // Bcc tells the server who else gets the message; it never goes out (RFC 5322 3.6.3, and
  // Resent-Bcc 3.6.6).
  const kept = lines.filter((line) => !BLIND.has(line.name.toLowerCase()));
  const eol = submitted.indexOf('\r\n') !== -1 ? '\r\n' : '\n';
  const added: string[] = [];
  let messageId = header(kept, 'message-id');
  if (messageId === null || messageId === '') {
    messageId = options.newMessageId();
    added.push(`Message-ID: ${messageId}${eol}`);
  }
  if (header(kept, 'date') === null) {
    const date = (options.now?.() ?? new Date()).toUTCString().replace(/GMT$/, '+0000');
    added.push(`Date: ${date}${eol}`);
  }
  let addedFrom: string | null = null;
  if (header(kept, 'from') === null && options.envelopeSender) {
    addedFrom = options.envelopeSender;
    added.push(`From: <${addedFrom}>${eol}`);
  }
  const pieces: Buffer[] = [];
  if (added.length > 0) pieces.push(Buffer.from(added.join(''), 'utf8'));
  if (kept.length === lines.length) {
    pieces.push(submitted);
  } else {
    let position = 0;
    for (const line of lines) {
      if (!BLIND.has(line.name.toLowerCase())) continue;
      pieces.push(submitted.subarray(position, line.start));
      position = line.stop;
    }
    pieces.push(submitted.subarray(position));
  }
  const raw = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
  const headers = kept.map(({ name, value }) => ({ name, value }));
  const froms = headers.filter((h) => h.name.toLowerCase() === 'from');
  const found = { text: null as string | null, html: null as string | null };
  textParts(headers, submitted.subarray(bodyStart), found);
  return {
    raw,
    messageId: messageId.trim(),
    subject: decodeWords(header(headers, 'subject') ?? ''),
    text: found.text,
    html: found.html,
    fromAddresses: addedFrom !== null ? [addedFrom] : froms.flatMap((h) => addressesIn(h.value)),
    fromDomains:
      addedFrom !== null
        ? [domainOf(addedFrom)]
        : [...new Set(froms.flatMap((h) => domainsNamedIn(h.value)))],
    headers,
    headerProblem: headerProblem(submitted, end, headers),
  };
}

function headerProblem(
  submitted: Buffer,
  end: number,
  headers: readonly RawHeader[],
): string | null {
  const froms = headers.filter((h) => h.name.toLowerCase() === 'from').length;
  if (froms > 1) return `the message has ${froms} From headers; RFC 5322 allows one`;
  for (let i = 0; i < end; i++) {
    if (submitted[i] === 0x0d && submitted[i + 1] !== 0x0a) {
      return 'the header section has a bare CR (a CR not followed by LF); end each line with CRLF';
    }
  }
  return null;
}
