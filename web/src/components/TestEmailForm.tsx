import { useState } from 'preact/hooks';
import { SEND_TEST_EMAIL } from '../api/documents.ts';
import { graphql, problemText } from '../api/http.ts';

/** Sends one real message through the configuration in use; it shows up in the table live. */
export function TestEmailForm({ onSent }: { onSent(id: string): void }) {
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const data = await graphql<{ sendTestEmail: { id: string } }>(SEND_TEST_EMAIL, { to });
      onSent(data.sendTestEmail.id);
    } catch (reason) {
      setError(problemText(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="test-email" onSubmit={submit}>
      <label for="test-email-to">Send a test email to</label>
      <div class="row">
        <input
          id="test-email-to"
          type="email"
          class="grow"
          placeholder="you@example.com"
          value={to}
          onInput={(e) => setTo(e.currentTarget.value)}
          required
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Sending…' : 'Send'}
        </button>
      </div>
      {error && (
        <p class="error banner" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
