import type { DkimKey } from './dkim.ts';
import type { Header } from '../domain/message.ts';

/** One message as delivery hands it to SMTP: composed by compose.ts, sent by transport.ts. */
export interface OutgoingMail {
  from: { address: string; name: string | null };
  /** The one recipient: the `To` header and the envelope's RCPT TO. */
  to: string;
  subject: string;
  text: string | null;
  html: string | null;
  /** Extra headers, in order; a later header replaces an earlier one of the same name. */
  headers: Header[];
  /**
   * Correlation stamps (correlation-stamps.ts): written as they are, never encoded or folded (a
   * provider reads them as JSON or plain text), replacing a header of the same name.
   * @default none
   */
  stamps?: readonly Header[];
  /** The full Message-ID, "<…@…>". */
  messageId: string;
  /**
   * A message submitted over SMTP: these bytes go out as they are, to `to` from `from.address`
   * (the envelope), and the fields above other than those two are not used. @default null
   */
  raw?: Uint8Array | null;
  /** Sign with this key; a message that cannot be signed is not sent. */
  dkim?: DkimKey | null;
  /**
   * The envelope sender bounces go to (VERP, BOUNCE_DOMAIN) and the DSN ENVID; null: the From
   * address. DSN parameters (RET=HDRS, ENVID, NOTIFY=FAILURE,DELAY) go only to a server that
   * offers DSN.
   */
  returnPath?: { address: string; envid: string } | null;
}
