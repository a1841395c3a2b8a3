import { verifySmtpEndpoint, type VerifyReport } from '../smtp/verify.ts';
import { formatSmtpUri, parseSmtpUri } from '../smtp/uri.ts';
import type { SmtpSettings } from './smtp-settings.ts';
import type { DestinationPolicy } from '../smtp/destination-guard.ts';

export interface SmtpVerification extends VerifyReport {
  /** The URI checked, password replaced by "***". */
  connectionUri: string;
}

export type VerifyResult =
  { ok: true; verification: SmtpVerification } | { ok: false; field: string; problem: string };

export interface SmtpVerifierDeps {
  settings: SmtpSettings;
  timeoutMs: number;
  /** SMTP_DISALLOW_PRIVATE_IPS / SMTP_ALLOWED_PORTS. @default null */
  destination?: DestinationPolicy | null;
}

/** "Will this configuration work?", answered step by step before any mail depends on it. */
export function createSmtpVerifier(deps: SmtpVerifierDeps) {
  return {
    /** Checks `connectionUri`, or the configuration in use when it is null. */
    async verify(connectionUri: string | null): Promise<VerifyResult> {
      let endpoint;
      if (connectionUri === null) {
        const active = deps.settings.current();
        if (active === null) {
          return {
            ok: false,
            field: 'connectionUri',
            problem: 'nothing is configured; pass a connectionUri to check one',
          };
        }
        endpoint = active.endpoint;
      } else {
        const parsed = parseSmtpUri(connectionUri);
        if (!parsed.ok) return { ok: false, field: 'connectionUri', problem: parsed.problem };
        endpoint = parsed.endpoint;
      }
      const report = await verifySmtpEndpoint(endpoint, {
        timeoutMs: deps.timeoutMs,
        destination: deps.destination ?? null,
      });
      return { ok: true, verification: { ...report, connectionUri: formatSmtpUri(endpoint) } };
    },
  };
}

export type SmtpVerifier = ReturnType<typeof createSmtpVerifier>;
