// What to do about a bounce, from its enhanced status and the remote server's words (the
// common causes the issue names). Null when nothing useful can be said.

const RULES: { test: (status: string, text: string) => boolean; hint: string }[] = [
  {
    test: (s, t) => s === '5.7.26' || /unauthenticated email|dmarc/i.test(t),
    hint: 'The receiver refused mail that fails DMARC (Gmail 5.7.26): publish SPF and DKIM for the From domain so that at least one passes and aligns with it. checkSenderDomain names the record that is missing or wrong (its SPF, DKIM, DMARC and ALIGNMENT items) and what to publish.',
  },
  {
    test: (s, t) => s === '5.7.515' || /access denied.*authentication/i.test(t),
    hint: 'Microsoft requires SPF, DKIM and DMARC for bulk senders (5.7.515): set up all three for the From domain; checkSenderDomain says which is missing and what to publish.',
  },
  {
    test: (s, t) =>
      ['5.7.23', '5.7.25', '5.7.27'].includes(s) || /\bspf\b|\bdkim\b|reverse dns|ptr/i.test(t),
    hint: "The receiver checks the sender's authentication (SPF, DKIM or reverse DNS) and it failed: checkSenderDomain shows the sending domain's SPF and DKIM records and what to fix; reverse DNS is the sending server's.",
  },
  {
    test: (s, t) =>
      ['5.1.1', '5.1.10', '5.1.0', '5.1.6'].includes(s) ||
      /user unknown|no such user|does not exist|unknown recipient|recipient not found|invalid recipient|mailbox unavailable/i.test(
        t,
      ),
    hint: 'The address does not exist at the receiving domain: remove it or ask the person for a correct one.',
  },
  {
    test: (s, t) =>
      s.endsWith('.2.2') ||
      /mailbox (is )?full|over ?quota|quota exceeded|insufficient storage/i.test(t),
    hint: "The recipient's mailbox is full: nothing to fix on our side; it may work later.",
  },
  {
    test: (s, t) =>
      ['5.3.4', '5.2.3', '4.3.4'].includes(s) || /too large|size limit|message size/i.test(t),
    hint: 'The message is larger than the receiver accepts: send smaller attachments, or a link instead.',
  },
  {
    test: (_s, t) => /spam|blocked|blacklist|blocklist|reputation|rbl|spamhaus/i.test(t),
    hint: "The receiver blocked the message as spam or the sending server for its reputation: check blocklists for the server's IP and the content of the message.",
  },
  {
    test: (s) => s.startsWith('5.7.') || s.startsWith('4.7.'),
    hint: 'The receiver refused the message by policy: the diagnostic says which; it is not about the address itself.',
  },
  {
    test: (s) => s.startsWith('4.'),
    hint: 'A temporary failure at the receiver: the sending server keeps trying for a while.',
  },
];

export function bounceHint(
  enhancedStatus: string | null,
  diagnostic: string | null,
): string | null {
  const status = enhancedStatus ?? '';
  const text = diagnostic ?? '';
  return RULES.find((rule) => rule.test(status, text))?.hint ?? null;
}
