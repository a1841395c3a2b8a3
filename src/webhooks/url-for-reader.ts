/**
 * An endpoint's URL as anyone but an ADMIN sees it (a READ token, the other endpoints told it
 * was disabled): where it points (scheme, host, port), not what follows. Receiving apps often
 * carry their own credentials in the user info, the path (Slack-style hook URLs) or the query
 * (`?token=`); a READ token is what a wall dashboard holds, and other endpoints are other apps:
 * with the whole URL, any of them could post to this one.
 */
export function urlForReader(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '***';
  }
  const origin = `${parsed.protocol}//${parsed.host}/`;
  return parsed.href === origin ? origin : `${origin}***`;
}
