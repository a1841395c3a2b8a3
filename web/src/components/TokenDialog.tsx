import { useEffect, useRef, useState } from 'preact/hooks';
import { setToken, tokenRequest } from '../api/token.ts';
import { useStore } from '../state/store.ts';

/** Asks for the API token when the server wants one; it is kept for this tab only. */
export function TokenDialog() {
  const request = useStore(tokenRequest);
  const dialog = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState('');

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (request && !element.open) element.showModal();
    if (!request && element.open) element.close();
  }, [request]);

  const submit = (event: Event) => {
    event.preventDefault();
    if (!value.trim()) return;
    setToken(value.trim());
    setValue('');
  };

  return (
    <dialog
      ref={dialog}
      class="token-dialog"
      aria-labelledby="token-title"
      onCancel={(e) => e.preventDefault()}
    >
      <form onSubmit={submit}>
        <h2 id="token-title">API token needed</h2>
        <p>
          This mailscope asks for its API token (<code>API_TOKEN</code>, or a token an admin gave
          you). It is kept in this tab's session storage only.
        </p>
        {request === 'rejected' && (
          <p class="error" role="alert">
            That token was refused. Check it and try again.
          </p>
        )}
        <label for="token-input">API token</label>
        <input
          id="token-input"
          type="password"
          autocomplete="off"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
          required
        />
        <div class="actions">
          <button type="submit" class="primary">
            Continue
          </button>
        </div>
      </form>
    </dialog>
  );
}
