import { useEffect, useState } from 'preact/hooks';
import { SMTP_QUERY, VERIFY_SMTP } from '../api/documents.ts';
import { graphql, problemText } from '../api/http.ts';
import type { SmtpConfig, SmtpProvider, SmtpVerification } from '../api/types.ts';
import { duration } from '../state/format.ts';
import { DkimInfo } from './DkimInfo.tsx';
import { DomainCheck } from './DomainCheck.tsx';
import { SmtpForm } from './SmtpForm.tsx';
import { TestEmailForm } from './TestEmailForm.tsx';
import { VerificationSteps } from './VerificationSteps.tsx';

const SOURCE_TEXT = {
  STORED: 'stored',
  ENVIRONMENT: 'from SMTP_CONNECTION_URI',
  EMBEDDED: 'embedded development server',
} as const;

/** The SMTP configuration in use, its check, and (for admins) the form that changes it. */
interface Props {
  epoch: number;
  canWrite: boolean;
  /** Opens a message in the detail panel (the test email just sent). */
  onOpen(id: string): void;
}

export function SmtpPanel({ epoch, canWrite, onOpen }: Props) {
  const [config, setConfig] = useState<SmtpConfig | null>(null);
  const [providers, setProviders] = useState<SmtpProvider[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [verifying, setVerifying] = useState(false);
  const [verification, setVerification] = useState<SmtpVerification | null>(null);

  useEffect(() => {
    graphql<{ smtpConfig: SmtpConfig | null; smtpProviders: SmtpProvider[] }>(SMTP_QUERY).then(
      (data) => {
        setConfig(data.smtpConfig);
        setProviders(data.smtpProviders);
        setError(null);
      },
      (reason: unknown) => setError(problemText(reason)),
    );
  }, [epoch]);

  const verify = async () => {
    setVerifying(true);
    setVerification(null);
    setError(null);
    try {
      const data = await graphql<{ verifySmtp: SmtpVerification }>(VERIFY_SMTP);
      setVerification(data.verifySmtp);
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setVerifying(false);
    }
  };

  return (
    <div class="card smtp" aria-labelledby="smtp-title">
      <h2 id="smtp-title" class="card-title">
        SMTP
        {config && <span class="badge">{SOURCE_TEXT[config.source]}</span>}
        {config?.version != null && <span class="badge">v{config.version}</span>}
      </h2>
      {config ? (
        <dl class="facts compact">
          <dt>Server</dt>
          <dd class="mono" data-smtp-uri>
            {config.connectionUri}
          </dd>
          {config.provider && (
            <>
              <dt>Preset</dt>
              <dd data-smtp-preset>
                {providers.find((p) => p.id === config.provider)?.name ?? config.provider}
              </dd>
            </>
          )}
          <dt>From</dt>
          <dd>
            {/* Isolated: a right-to-left override in a name must not reverse the address. */}
            {config.fromName ? (
              <>
                <bdi>{config.fromName}</bdi> &lt;<bdi>{config.fromAddress}</bdi>&gt;
              </>
            ) : (
              <bdi>{config.fromAddress}</bdi>
            )}
          </dd>
          <dt>DKIM</dt>
          <dd data-dkim-state>{config.dkim ? 'signed by mailscope' : 'not signed by mailscope'}</dd>
        </dl>
      ) : (
        !error && <p class="muted">Loading…</p>
      )}
      {config?.dkim && <DkimInfo dkim={config.dkim} />}
      {error && (
        <p class="error banner" role="alert">
          {error}
        </p>
      )}
      <div class="actions">
        {/* verifySmtp dials out, so it needs an admin token like the mutations. */}
        {canWrite && (
          <button type="button" onClick={verify} disabled={verifying}>
            {verifying ? 'Verifying…' : 'Verify connection'}
          </button>
        )}
        {canWrite && !editing && (
          <button type="button" onClick={() => setEditing(true)}>
            Change…
          </button>
        )}
      </div>
      {verification && (
        <div class="verification" aria-live="polite">
          <p class={verification.ok ? 'ok' : 'bad'}>
            {verification.ok ? 'Connection works' : 'Connection failed'}{' '}
            <span class="muted">in {duration(verification.totalDurationMs)}</span>{' '}
            <button type="button" class="link" onClick={() => setVerification(null)}>
              Hide
            </button>
          </p>
          <VerificationSteps steps={verification.steps} />
        </div>
      )}
      {canWrite && !editing && <TestEmailForm onSent={onOpen} />}
      {canWrite && editing && (
        <SmtpForm
          providers={providers}
          current={config}
          onSaved={(saved) => {
            setConfig(saved);
            setEditing(false);
            setVerification(null);
          }}
          onCancel={() => setEditing(false)}
        />
      )}
      {/* A new configuration version may change the domain and provider: the old result goes. */}
      <DomainCheck
        key={config?.version ?? config?.source}
        providers={providers}
        defaultDomain={config ? (config.fromAddress.split('@').pop() ?? null) : null}
      />
    </div>
  );
}
