import { useState } from 'preact/hooks';
import { CONFIGURE_PROVIDER, CONFIGURE_SMTP, VERIFY_SMTP } from '../api/documents.ts';
import { graphql } from '../api/http.ts';
import type { SmtpConfig, SmtpProvider, SmtpVerification } from '../api/types.ts';
import { VerificationSteps } from './VerificationSteps.tsx';

interface Props {
  providers: SmtpProvider[];
  current: SmtpConfig | null;
  onSaved(config: SmtpConfig): void;
  onCancel(): void;
}

const CUSTOM = '';

/** Stores a new configuration, from a connection URI or a provider preset. */
export function SmtpForm({ providers, current, onSaved, onCancel }: Props) {
  const [provider, setProvider] = useState(CUSTOM);
  const [uri, setUri] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [host, setHost] = useState('');
  const [port, setPort] = useState('');
  const [fromAddress, setFromAddress] = useState(current?.fromAddress ?? '');
  const [fromName, setFromName] = useState(current?.fromName ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [check, setCheck] = useState<SmtpVerification | null>(null);
  const preset = providers.find((p) => p.id === provider) ?? null;

  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const from = { fromAddress, fromName: fromName || null };
      const saved = preset
        ? (
            await graphql<{ configureSmtpProvider: SmtpConfig }>(CONFIGURE_PROVIDER, {
              input: {
                provider: preset.id,
                username: username || null,
                password,
                ...(preset.id === 'GENERIC' ? { host, port: port ? Number(port) : null } : {}),
                ...from,
              },
            })
          ).configureSmtpProvider
        : (
            await graphql<{ configureSmtp: SmtpConfig }>(CONFIGURE_SMTP, {
              input: { connectionUri: uri, ...from },
            })
          ).configureSmtp;
      onSaved(saved);
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setBusy(false);
    }
  };

  const verifyUri = async () => {
    setBusy(true);
    setError(null);
    setCheck(null);
    try {
      setCheck(
        (await graphql<{ verifySmtp: SmtpVerification }>(VERIFY_SMTP, { connectionUri: uri }))
          .verifySmtp,
      );
    } catch (reason) {
      setError(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="smtp-form" onSubmit={save} aria-label="Change the SMTP configuration">
      <div class="field">
        <label for="smtp-provider">Provider</label>
        <select
          id="smtp-provider"
          value={provider}
          onChange={(e) => setProvider(e.currentTarget.value)}
        >
          <option value={CUSTOM}>Connection URI…</option>
          {providers.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </div>
      {preset ? (
        <>
          <p class="muted small">{preset.documentationNote}</p>
          {preset.id === 'GENERIC' && (
            <div class="row">
              <div class="field grow">
                <label for="smtp-host">Host</label>
                <input
                  id="smtp-host"
                  value={host}
                  onInput={(e) => setHost(e.currentTarget.value)}
                  required
                />
              </div>
              <div class="field port">
                <label for="smtp-port">Port</label>
                <input
                  id="smtp-port"
                  inputMode="numeric"
                  value={port}
                  placeholder="587"
                  onInput={(e) => setPort(e.currentTarget.value)}
                />
              </div>
            </div>
          )}
          {!preset.fixedUsername && (
            <div class="field">
              <label for="smtp-username">User name</label>
              {/* A user name that is a credential (Postmark's token) is typed like a password. */}
              {preset.usernameIsSecret ? (
                <input
                  id="smtp-username"
                  type="password"
                  autocomplete="off"
                  value={username}
                  onInput={(e) => setUsername(e.currentTarget.value)}
                />
              ) : (
                <input
                  id="smtp-username"
                  autocomplete="off"
                  value={username}
                  onInput={(e) => setUsername(e.currentTarget.value)}
                />
              )}
              <small class="muted">{preset.usernameRule}</small>
            </div>
          )}
          <div class="field">
            <label for="smtp-password">Password</label>
            <input
              id="smtp-password"
              type="password"
              autocomplete="new-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              required
            />
            <small class="muted">{preset.passwordRule}</small>
          </div>
        </>
      ) : (
        <div class="field">
          <label for="smtp-uri">Connection URI</label>
          <input
            id="smtp-uri"
            class="mono"
            autocomplete="off"
            spellcheck={false}
            placeholder="smtp://user:password@smtp.example.com:587/"
            value={uri}
            onInput={(e) => setUri(e.currentTarget.value)}
            required
          />
        </div>
      )}
      <div class="row">
        <div class="field grow">
          <label for="smtp-from">From address</label>
          <input
            id="smtp-from"
            type="email"
            value={fromAddress}
            onInput={(e) => setFromAddress(e.currentTarget.value)}
            required
          />
        </div>
        <div class="field grow">
          <label for="smtp-from-name">From name</label>
          <input
            id="smtp-from-name"
            value={fromName}
            onInput={(e) => setFromName(e.currentTarget.value)}
          />
        </div>
      </div>
      {error && (
        <p class="error banner" role="alert">
          {error}
        </p>
      )}
      {check && <VerificationSteps steps={check.steps} />}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Save
        </button>
        {!preset && (
          <button type="button" disabled={busy || !uri} onClick={verifyUri}>
            Verify this URI
          </button>
        )}
        <button type="button" class="link" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
