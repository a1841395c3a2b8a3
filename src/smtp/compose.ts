import MailComposer from 'nodemailer/lib/mail-composer';
import type MimeNode from 'nodemailer/lib/mime-node';
import { isPlainText } from 'nodemailer/lib/mime-funcs';
import * as qp from 'nodemailer/lib/qp';
import type { SendMailOptions } from 'nodemailer';
import type { OutgoingMail } from './outgoing-mail.ts';

/** What goes on the wire for one message: the SMTP envelope and the RFC 5322 bytes. */
export interface ComposedMessage {
  envelope: { from: string; to: string[]; dsn?: DsnParams };
  /** The whole message, ending in CRLF; SMTP dot-stuffing is left to the connection. */
  raw: Buffer;
}

/** A local part and a lowercase domain nodemailer writes as they are (no punycode, no quotes). */
const PLAIN_ADDRESS = /^[A-Za-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*$/;
/** A display name nodemailer writes unquoted and unencoded. */
const PLAIN_NAME = /^[A-Za-z0-9]+(?: [A-Za-z0-9]+)*$/;
/** Printable ASCII that starts and ends with a visible character: never encoded, never trimmed. */
const PLAIN_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
/** nodemailer folds header lines of this length and longer (and checks body lines against it). */
const HEADER_LINE = 76;

/**
 * The commonest message (plain addresses, an ASCII subject short enough not to fold, no custom
 * headers, one text or HTML body that goes out as it is) written straight from a template: the
 * bytes MailComposer writes for it (test/unit/compose.test.ts compares them over a corpus),
 * for a tenth of the CPU. Null for anything else.
 */
function plainMessage(mail: OutgoingMail): Buffer | null {
  if (mail.headers.length > 0 || (mail.stamps ?? []).length > 0) return null;
  if ((mail.text === null) === (mail.html === null)) return null;
  const body = (mail.text ?? mail.html)!;
  if (body === '' || !isPlainText(body) || hasLineLongerThan(body, HEADER_LINE)) return null;
  const { address, name } = mail.from;
  if (!PLAIN_ADDRESS.test(address) || !PLAIN_ADDRESS.test(mail.to)) return null;
  if (name !== null && name !== '' && !PLAIN_NAME.test(name)) return null;
  if (!PLAIN_VALUE.test(mail.subject) || !PLAIN_VALUE.test(mail.messageId)) return null;
  // nodemailer encodes a subject holding a quote, or "=?" (it could read as an encoded word).
  if (/"|=\?/.test(mail.subject)) return null;
  const from = name ? `From: ${name} <${address}>` : `From: ${address}`;
  const to = `To: ${mail.to}`;
  const subject = `Subject: ${mail.subject}`;
  const messageId = `Message-ID: ${mail.messageId}`;
  for (const line of [from, to, subject, messageId]) if (line.length >= HEADER_LINE) return null;
  const date = new Date().toUTCString().replace(/GMT/, '+0000');
  const type = mail.text !== null ? 'text/plain' : 'text/html';
  const end = body.endsWith('\n') ? '' : body.endsWith('\r') ? '\n' : '\r\n';
  return Buffer.from(
    `${from}\r\n${to}\r\n${subject}\r\n${messageId}\r\n` +
      `Content-Transfer-Encoding: 7bit\r\nDate: ${date}\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: ${type}; charset=utf-8\r\n\r\n${body}${end}`,
    'utf8',
  );
}

/**
 * nodemailer's `hasLongerLines` (which decides between 7bit and an encoding) for text that
 * `isPlainText` accepted, so CR and LF are its only line breaks; without the RegExp it compiles
 * on every call.
 */
function hasLineLongerThan(text: string, max: number): boolean {
  if (text.length > 128 * 1024) return true;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 10 || code === 13) run = 0;
    else if (++run > max) return true;
  }
  return false;
}

/**
 * The message as nodemailer composes it (MailComposer: same headers, same encodings, same
 * structure), with nodemailer's own header code, but without its stream pipeline where no
 * stream is needed: a part whose body goes out as-is (7bit) or as quoted-printable text small
 * enough for one pass of nodemailer's encoder is joined here, synchronously. That pipeline
 * (a PassThrough per part, an encoder stream, setImmediate between parts) was nearly half of
 * what nodemailer spent building a small message (bench/README.md). Anything else (base64 bodies, long QP bodies, bodies ending in
 * whitespace) is built by nodemailer's stream as before. test/unit/compose.test.ts checks that
 * both give the same bytes as nodemailer's whole pipeline.
 */
export async function composeMessage(mail: OutgoingMail): Promise<ComposedMessage> {
  const composed = await composeBody(mail);
  const returnPath = mail.returnPath ?? null;
  if (returnPath === null) return composed;
  return {
    raw: composed.raw,
    envelope: {
      from: returnPath.address,
      to: composed.envelope.to,
      // Only the headers come back (RET=HDRS): enough to match, and no copy of the content.
      dsn: { ret: 'HDRS', envid: returnPath.envid, notify: ['FAILURE', 'DELAY'] },
    },
  };
}

/** DSN parameters for MAIL FROM and RCPT TO (RFC 3461), sent when the server offers DSN. */
export interface DsnParams {
  ret: 'HDRS';
  envid: string;
  notify: string[];
}

async function composeBody(mail: OutgoingMail): Promise<ComposedMessage> {
  // Submitted over SMTP: the sender's own message, only the envelope is ours.
  if (mail.raw) {
    const raw = Buffer.isBuffer(mail.raw)
      ? mail.raw
      : Buffer.from(mail.raw.buffer, mail.raw.byteOffset, mail.raw.byteLength);
    return { envelope: { from: mail.from.address, to: [mail.to] }, raw };
  }
  const plain = plainMessage(mail);
  if (plain !== null) return { envelope: { from: mail.from.address, to: [mail.to] }, raw: plain };
  const root = new MailComposer(mailOptions(mail)).compile();
  const envelope = root.getEnvelope() as { from: string | false; to: string[] };
  const raw = joinable(root) ? joined(root) : await root.build();
  return { envelope: { from: envelope.from || '', to: envelope.to }, raw };
}

export function mailOptions(mail: OutgoingMail): SendMailOptions {
  const options: SendMailOptions = {
    from: { name: mail.from.name ?? '', address: mail.from.address },
    to: mail.to,
    subject: mail.subject,
    messageId: mail.messageId,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  if (mail.text !== null) options.text = mail.text;
  if (mail.html !== null) options.html = mail.html;
  const stamps = mail.stamps ?? [];
  if (mail.headers.length > 0 || stamps.length > 0) {
    const byName = new Map<
      string,
      { key: string; value: string | { prepared: true; value: string } }
    >();
    for (const { name, value } of mail.headers)
      byName.set(name.toLowerCase(), { key: name, value });
    for (const { name, value } of stamps) {
      byName.set(name.toLowerCase(), { key: name, value: { prepared: true, value } });
    }
    options.headers = [...byName.values()];
  }
  return options;
}

/**
 * nodemailer's QP encoder stream encodes its input in slices of 64 KiB and holds back trailing
 * whitespace; within one slice and without trailing whitespace its output is exactly
 * `wrap(encode(text), 76)`.
 */
const ONE_PASS_QP_BYTES = 64 * 1024;

interface Node {
  content?: unknown;
  multipart?: string | false;
  boundary?: string;
  childNodes: Node[];
  _raw?: unknown;
  getHeader(key: string): unknown;
  buildHeaders(): string;
  getTransferEncoding(): string | false;
}

function joinable(nodeIn: MimeNode): boolean {
  const node = nodeIn as unknown as Node;
  if (node._raw) return false;
  // Read from the header: nodemailer sets `multipart` and `contentType` only when it builds.
  const type = String(node.getHeader('Content-Type') ?? '').trim();
  if (/^multipart\//i.test(type)) {
    return node.childNodes.every((child) => joinable(child as never));
  }
  if (node.childNodes.length > 0) return false;
  if (node.content === undefined || node.content === null || node.content === '') return true;
  if (typeof node.content !== 'string') return false;
  if (!/^text\//i.test(type)) return false;
  const encoding = node.getTransferEncoding();
  if (encoding === '7bit') return true;
  return (
    encoding === 'quoted-printable' &&
    Buffer.byteLength(node.content) <= ONE_PASS_QP_BYTES &&
    !/[ \t]$/.test(node.content)
  );
}

/** The same bytes nodemailer's MimeNode stream writes, for a node `joinable` accepted. */
function joined(root: MimeNode): Buffer {
  const parts: string[] = [];
  write(root as unknown as Node, parts);
  // nodemailer's last stage makes sure the message ends with a line break.
  const last = parts.length > 0 ? parts[parts.length - 1]! : '';
  if (!last.endsWith('\n')) parts.push(last.endsWith('\r') ? '\n' : '\r\n');
  return Buffer.from(parts.join(''), 'utf8');
}

function write(node: Node, out: string[]): void {
  out.push(node.buildHeaders() + '\r\n\r\n');
  if (typeof node.content === 'string' && node.content !== '') {
    out.push(
      node.getTransferEncoding() === 'quoted-printable'
        ? qp.wrap(qp.encode(node.content), 76)
        : node.content,
    );
  }
  if (!node.multipart) return;
  node.childNodes.forEach((child, i) => {
    out.push((i > 0 ? '\r\n' : '') + '--' + node.boundary + '\r\n');
    write(child, out);
  });
  out.push('\r\n--' + node.boundary + '--\r\n');
}
