import { useEffect, useRef, useState } from 'preact/hooks';
import { keepToken, setToken, tokenRequest } from '../api/token.ts';
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

  // Without a working token there is nothing to go back to; with one, the dialog may be closed.
  const closable = request === 'forbidden' || request === 'change';

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
      onCancel={(e) => {
        e.preventDefault();
        if (closable) keepToken();
      }}
    >
      <form onSubmit={submit}>
        <h2 id="token-title">
          {request === 'forbidden'
            ? 'This token cannot read the dashboard'
            : request === 'change'
              ? 'Change API token'
              : 'API token needed'}
        </h2>
        {request === 'forbidden' ? (
          <p role="alert" data-token-problem="forbidden">
            The server accepted this token but does not let it read messages or statistics: the
            dashboard needs a token with the READ or ADMIN scope (a SEND token may only send mail).
            Enter another token.
          </p>
        ) : (
          <p>
            This mailscope asks for its API token (<code>API_TOKEN</code>, or a token an admin gave
            you). It is kept in this tab's session storage only.
          </p>
        )}
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
          {closable && (
            <button type="button" onClick={keepToken}>
              Cancel
            </button>
          )}
          <button type="submit" class="primary">
            Continue
          </button>
        </div>
      </form>
    </dialog>
  );
}
