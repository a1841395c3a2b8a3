import type { LookupAddress, LookupOptions } from 'node:dns';
import net from 'node:net';
import { lookupHost } from '../dns/thread-dns.ts';
import { forbiddenAddressKind } from '../smtp/destination-guard.ts';

/** Why `url` may not be an endpoint (not http(s), credentials, an internal host); null if it may. */
export async function webhookUrlProblem(
  url: string,
  allowPrivate: boolean,
): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return 'must be an absolute http:// or https:// URL';
  }
  if (parsed.username !== '' || parsed.password !== '') return 'must not carry credentials';
  if (url.length > 2_000) return 'must be at most 2000 characters';
  // The URL parser drops tabs and line breaks, so the one called would not be the one shown.
  if (/[\s\u0000-\u001f\u007f]/.test(url)) {
    return 'must not contain spaces, tabs, line breaks or other control characters';
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = await lookupHost(host);
  } catch {
    return `cannot resolve the host name ${host}`;
  }
  if (allowPrivate) return null;
  for (const address of addresses) {
    const kind = forbiddenAddressKind(address);
    if (kind !== null) {
      return `${host} is or resolves to a ${kind} address (WEBHOOK_ALLOW_PRIVATE_URLS=true allows it)`;
    }
  }
  return null;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * The `lookup` of every webhook connection: the name is resolved again and each address checked
 * at connect time, so a name that resolved to a public address when the endpoint was saved and
 * to an internal one now (DNS rebinding) is refused.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookupHost(hostname).then(
      (addresses) => {
        const refused = allowPrivate
          ? null
          : addresses.map(forbiddenAddressKind).find((kind) => kind !== null);
        if (refused) {
          const error: NodeJS.ErrnoException = new Error(
            `${hostname} resolves to a ${refused} address, which webhooks may not reach`,
          );
          error.code = 'EADDRNOTALLOWED';
          callback(error, '');
          return;
        }
        const entries = addresses.map((address) => ({ address, family: net.isIP(address) }));
        if (options.all) callback(null, entries);
        else callback(null, entries[0]!.address, entries[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}

/** A literal IP in a URL is never looked up: it is checked here before connecting. */
export function literalAddressProblem(hostname: string, allowPrivate: boolean): string | null {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (allowPrivate || net.isIP(host) === 0) return null;
  const kind = forbiddenAddressKind(host);
  return kind === null ? null : `${host} is a ${kind} address, which webhooks may not reach`;
}
