/** RFC 3463 enhanced status: `class.subject.detail`. */
export interface Status {
  text: string;
  /** 2 success, 4 temporary, 5 permanent. */
  cls: number;
  /** 1 addressing, 2 mailbox, 3 mail system, 4 network, 5 protocol, 6 content, 7 security. */
  subject: number;
  detail: number;
}

/** RFC 3463 `class.subject.detail` right after the reply code, e.g. "550 5.1.1 …" → "5.1.1". */
export function parseEnhancedStatus(response: string): string | null {
  const match = /^[2-5]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})(?!\S)/.exec(response);
  return match?.[1] ?? null;
}

export function statusOf(enhancedStatus: string | null): Status | null {
  if (enhancedStatus === null) return null;
  const [cls = 0, subject = 0, detail = 0] = enhancedStatus.split('.').map(Number);
  return { text: enhancedStatus, cls, subject, detail };
}
