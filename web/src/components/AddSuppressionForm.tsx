import { useState } from 'preact/hooks';

/** Puts an address on the suppression list by hand (reason MANUAL). */
export function AddSuppressionForm({
  onAdd,
}: {
  onAdd(address: string, detail: string): Promise<string | null>;
}) {
  const [address, setAddress] = useState('');
  const [detail, setDetail] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const problem = await onAdd(address, detail);
    setBusy(false);
    if (problem) {
      setError(problem);
      return;
    }
    setAddress('');
    setDetail('');
  };

  return (
    <form class="add-suppression" onSubmit={submit} aria-label="Add an address">
      <div class="field">
        <label for="suppression-address">Add an address</label>
        <input
          id="suppression-address"
          // text, not email: the service judges addresses (internationalised ones included)
          type="text"
          inputMode="email"
          spellcheck={false}
          placeholder="someone@example.com"
          value={address}
          onInput={(e) => setAddress(e.currentTarget.value)}
          required
        />
      </div>
      <div class="field grow">
        <label for="suppression-detail">Why (optional)</label>
        <input
          id="suppression-detail"
          type="text"
          placeholder="e.g. asked to stop"
          value={detail}
          onInput={(e) => setDetail(e.currentTarget.value)}
        />
      </div>
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Adding…' : 'Suppress'}
      </button>
      {error && (
        <p class="error banner" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
