import type { DkimInfo as Dkim } from '../api/types.ts';
import { CopyableRecord } from './CopyableRecord.tsx';

/** DKIM signing in use: receivers find the public key at this TXT record. */
export function DkimInfo({ dkim }: { dkim: Dkim }) {
  return (
    <details class="dkim" data-dkim>
      <summary>
        DKIM signing as <strong>{dkim.domain}</strong> (selector{' '}
        <span class="mono">{dkim.selector}</span>)
      </summary>
      <p class="small muted">Publish this TXT record so receivers can check the signature:</p>
      <CopyableRecord text={dkim.dnsRecordName} label="the DKIM record name" />
      <CopyableRecord text={dkim.dnsRecordValue} label="the DKIM record value" />
    </details>
  );
}
