import { getDomain } from 'tldts';

/** The registrable domain (example.co.uk for mail.example.co.uk); the name itself when unknown. */
export function organisationalDomain(domain: string): string {
  return getDomain(domain, { allowPrivateDomains: true }) ?? domain;
}
