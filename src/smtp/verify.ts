/**
 * "Verify before sending": walks an SMTP endpoint step by step (DNS, TCP, TLS, greeting, EHLO,
 * STARTTLS, AUTH) and reports what each step saw, without sending mail. A small client of our
 * own rather than nodemailer's `verify()`, which reports only the first error and hides the
 * certificate, the extensions and where the time went.
 *
 * Expected failures are data (`ok: false` on the step, with a `DeliveryError` classified by
 * `classify.ts`, so the hints match those of a failed delivery); the promise never rejects.
 */
import { performance } from 'node:perf_hooks';
import type { SmtpEndpoint } from './endpoint.ts';
import { secretVariants } from './redact.ts';
import { Verification } from './verify-steps.ts';
import type { VerifyOptions, VerifyReport, VerifyStep } from './verify-types.ts';

export type {
  TlsDetails,
  VerifyOptions,
  VerifyReport,
  VerifyStep,
  VerifyStepName,
} from './verify-types.ts';

/**
 * Checks the endpoint without sending mail. Stops at the first failing step; ends with QUIT
 * (when the conversation allows it) and always closes the connection. AUTH runs only when the
 * endpoint has a user name; otherwise there is no AUTH step.
 */
export async function verifySmtpEndpoint(
  endpoint: SmtpEndpoint,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const startedAt = performance.now();
  const verification = new Verification(endpoint, options);
  try {
    await verification.run();
  } finally {
    await verification.close();
  }
  const steps = redactSecrets(verification.steps, endpoint);
  return {
    ok: steps.every((step) => step.ok),
    steps,
    totalDurationMs: Math.round(performance.now() - startedAt),
  };
}

/**
 * Nothing here builds text from the password, but a server may echo what it was sent (a LOGIN
 * or PLAIN payload in an error reply). The secrets are those of redact.ts.
 */
function redactSecrets(steps: VerifyStep[], endpoint: SmtpEndpoint): VerifyStep[] {
  const secrets = secretVariants(endpoint);
  if (secrets.length === 0) return steps;
  const redact = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return secrets.reduce((text, secret) => text.split(secret).join('***'), value);
    }
    if (Array.isArray(value)) return value.map(redact);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, redact(v)]));
    }
    return value;
  };
  return redact(steps) as VerifyStep[];
}
