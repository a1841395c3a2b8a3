import { createHmac } from 'node:crypto';

/**
 * The Standard Webhooks headers of one attempt: each attempt is signed afresh with its own
 * timestamp; with several secrets (the 24 h after a rotation) the signature header carries one
 * `v1,` signature per secret, space-separated. The key is the base64-decoded part after `whsec_`.
 */
export function signedHeaders(
  webhookId: string,
  timestampSeconds: number,
  body: string,
  secrets: readonly string[],
): Record<string, string> {
  const content = `${webhookId}.${timestampSeconds}.${body}`;
  const signatures = secrets.map((secret) => {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    return `v1,${createHmac('sha256', key).update(content).digest('base64')}`;
  });
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatures.join(' '),
  };
}
