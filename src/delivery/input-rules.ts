import { domainToUnicode } from 'node:url';
import type { Header } from '../domain/message.ts';

/**
 * One thing wrong with one input field. `field` is its path within the input object ("to",
 * "headers[2].name", "dkim.selector"; empty for the input as a whole); `index` says which input
 * of a list. Where the input sits in a request is the API's business (graphql/errors.ts).
 */
export interface InputProblem {
  field: string;
  problem: string;
  index?: number;
}

export const LIMITS = {
  addressLength: 254,
  localPartLength: 64,
  subjectLength: 998,
  fromNameLength: 256,
  /** Per body part; the whole message stays well under common 10–25 MB server limits. */
  bodyBytes: 5 * 1024 * 1024,
  headerCount: 50,
  headerNameLength: 100,
  headerValueLength: 2_000,
  idempotencyKeyLength: 255,
} as const;

// RFC 5322 atext (plus RFC 6531's non-ASCII, which needs SMTPUTF8 on the wire), so dot-atom
// local parts; quoted local parts are refused on purpose: many providers reject them and they
// are a favourite of header-injection attempts.
// Non-ASCII is limited to letters, marks and digits: no full-width "@", "<" or ",", no
// invisible format characters, nothing a parser or a person could read as syntax.
const ATEXT = "(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|[\\p{L}\\p{M}\\p{N}])";
const LOCAL_PART = new RegExp(`^${ATEXT}+(\\.${ATEXT}+)*$`, 'u');
// LDH labels; non-ASCII letters are allowed (IDN) and punycoded by nodemailer on the wire.
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?$/u;
// RFC 7230 token: what a header field name may be made of.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// NEL and the Unicode line and paragraph separators count: some parsers break lines at them.
const LINE_BREAK = /[\r\n\u0085\u2028\u2029]/;
// Control characters other than tab have no business in a header value.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/;

/** Headers the service sets itself; letting callers set them would break the envelope or MIME. */
const RESERVED_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'sender',
  'return-path',
  'message-id',
  'date',
  'mime-version',
  // Trace and authentication results belong to the servers on the way; a forged one misleads.
  'received',
  'dkim-signature',
  'authentication-results',
]);

/** Prefixes of header names reserved like RESERVED_HEADERS. */
const RESERVED_PREFIXES = ['content-', 'resent-', 'arc-'];

/**
 * Local parts that one party reads as written and another decodes or routes ("splitting the
 * email atom"): an RFC 2047 encoded word (`=?utf-8?B?…?=`) that a receiver decodes into another
 * address, and the old source routes `user%host@relay` and `host!user@relay` that some servers
 * still follow to relay elsewhere. Each is legal atext, so the pattern above lets them through.
 */
const LOCAL_PART_TRICKS: [RegExp, string][] = [
  [
    /=\?/,
    'must not contain an encoded word ("=?…?="): a receiver that decodes it may deliver to another address',
  ],
  [
    /[%!]/,
    'must not contain "%" or "!": they are source routes some servers follow to relay the mail elsewhere',
  ],
];

/**
 * Why an `xn--` label is not a real IDNA A-label, or null: it must decode, to something that is
 * not plain ASCII (else the same domain has two spellings) and that a Unicode label may hold.
 */
function punycodeProblem(label: string): string | null {
  if (!/^xn--/i.test(label)) return null;
  const decoded = domainToUnicode(label);
  if (decoded === '' || /^[\x00-\x7f]*$/.test(decoded) || !DOMAIN_LABEL.test(decoded)) {
    return `"${label}" is not valid punycode for an international domain name`;
  }
  return null;
}

/** Returns why `value` is not a plain email address (`local@domain`), or null when it is. */
export function addressProblem(value: string): string | null {
  if (value.length === 0) return 'must not be empty';
  if (LINE_BREAK.test(value) || CONTROL.test(value)) return 'must not contain control characters';
  if (value.length > LIMITS.addressLength) {
    return `must be at most ${LIMITS.addressLength} characters`;
  }
  // The two forms people paste from a mail client, named as such: split at the last "@" they
  // would read as a strange local part ("Alice <alice" or "a@example.com, b").
  if (/<[^<>]*@[^<>]*>/.test(value)) {
    return 'must be a bare address like name@example.com, without a display name or angle brackets';
  }
  if (value.indexOf('@') !== value.lastIndexOf('@') && /[,;\s]/.test(value)) {
    return 'must be one address; for several recipients, send one message each (sendEmails takes a list)';
  }
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) {
    return 'must be a single address like name@example.com';
  }
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > LIMITS.localPartLength) {
    return `local part must be at most ${LIMITS.localPartLength} characters`;
  }
  if (!LOCAL_PART.test(local)) {
    return `"${local}" is not a valid local part (use letters, digits and .#$&'*+/=?^_\`{|}~-, no leading, trailing or double dots)`;
  }
  for (const [pattern, problem] of LOCAL_PART_TRICKS) {
    if (pattern.test(local)) return `local part ${problem}`;
  }
  // Full-width and other compatibility letters (U+FF45 for "e") are mapped to plain ones on the
  // wire (IDNA), so "victim@ｅxample.com" reaches victim@example.com while comparing unequal to
  // it: a way past the suppression list and the recipient filter. Asked for in its plain form.
  const plain = domain.normalize('NFKC');
  if (plain !== domain) {
    return `"${domain}" is written with characters that stand for others (full-width or compatibility forms): write it as "${plain}"`;
  }
  const labels = domain.split('.');
  // No top-level domain is all digits: "a@127.0.0.1" is an address literal in disguise.
  const numericTld = /^\d+$/.test(labels.at(-1) ?? '');
  if (labels.length < 2 || numericTld || !labels.every((label) => DOMAIN_LABEL.test(label))) {
    return `"${domain}" is not a valid domain`;
  }
  for (const label of labels) {
    const problem = punycodeProblem(label);
    if (problem !== null) return problem;
  }
  return null;
}

/** Whether mailscope sets this header itself (sendEmail may not set it). */
export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_HEADERS.has(lower) || RESERVED_PREFIXES.some((p) => lower.startsWith(p));
}

/** Checks custom headers; `field` is where they sit in the input, e.g. "headers". */
export function headerProblems(headers: readonly Header[], field: string): InputProblem[] {
  const problems: InputProblem[] = [];
  if (headers.length > LIMITS.headerCount) {
    problems.push({ field, problem: `at most ${LIMITS.headerCount} headers are allowed` });
  }
  headers.forEach((header, index) => {
    const at = `${field}[${index}]`;
    const lower = header.name.toLowerCase();
    if (!HEADER_NAME.test(header.name) || header.name.length > LIMITS.headerNameLength) {
      problems.push({
        field: `${at}.name`,
        problem: `"${header.name.slice(0, 40)}" is not a valid header name (letters, digits and !#$%&'*+.^_\`|~-, at most ${LIMITS.headerNameLength})`,
      });
    } else if (RESERVED_HEADERS.has(lower) || RESERVED_PREFIXES.some((p) => lower.startsWith(p))) {
      problems.push({
        field: `${at}.name`,
        problem: `"${header.name}" is set by mailscope and may not be overridden`,
      });
    }
    if (CONTROL.test(header.value)) {
      problems.push({
        field: `${at}.value`,
        problem: 'must not contain line breaks or control characters',
      });
    } else if (header.value.length > LIMITS.headerValueLength) {
      problems.push({
        field: `${at}.value`,
        problem: `must be at most ${LIMITS.headerValueLength} characters`,
      });
    }
  });
  return problems;
}

/** Subject lines and display names: one line, bounded. */
export function singleLineProblem(value: string, maxLength: number): string | null {
  if (LINE_BREAK.test(value)) return 'must not contain line breaks';
  if (CONTROL.test(value)) return 'must not contain control characters';
  if (value.length > maxLength) return `must be at most ${maxLength} characters`;
  return null;
}

/** Why `address` may not be a sender under SENDER_DOMAIN_ALLOWLIST, or null when it may. */
export function senderDomainProblem(
  address: string,
  allowedDomains: readonly string[] | null,
): string | null {
  if (allowedDomains === null) return null;
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return allowedDomains.includes(domain)
    ? null
    : `the domain "${domain}" is not allowed to send (SENDER_DOMAIN_ALLOWLIST: ${allowedDomains.join(', ')})`;
}
