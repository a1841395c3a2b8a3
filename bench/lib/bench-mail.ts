/** ~1 KB of plain text: the body of every end-to-end message, raw and service alike. */
export const BENCH_BODY = Array.from(
  { length: 16 },
  (_, i) => `Line ${i + 1} of a benchmark message: the quick brown fox jumps over the lazy dog.`,
).join('\n');

export const SEND_EMAIL =
  'mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id status } }';
