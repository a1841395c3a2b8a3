import { useRef, useState } from 'preact/hooks';

/** Copies through the Clipboard API, else by selecting `element` and the copy command. */
async function copy(text: string, element: HTMLElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!element) return false;
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    // Deprecated but the only way left on a page without clipboard access (plain http).
    return document.execCommand('copy');
  }
}

/** A DNS record to publish, exactly as it must be typed, with a button that copies it. */
export function CopyableRecord({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const pre = useRef<HTMLPreElement>(null);
  const onCopy = async () => {
    setState((await copy(text, pre.current)) ? 'copied' : 'failed');
    setTimeout(() => setState('idle'), 2_000);
  };
  return (
    <div class="record">
      <pre ref={pre} class="record-text" data-record>
        {text}
      </pre>
      <button type="button" class="copy" onClick={onCopy} aria-label={`Copy ${label}`}>
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy' : 'Copy'}
      </button>
    </div>
  );
}
