/**
 * Amazon SES's SMTP interface takes the envelope sender (MAIL FROM) as given, but only from a
 * verified identity: with BOUNCE_DOMAIN set, mailscope's `bounces+<token>@BOUNCE_DOMAIN` is
 * refused on every send unless that domain is verified in SES. Said where the two meet.
 */
export function isAmazonSes(settings: { provider: string | null; host: string }): boolean {
  return (
    settings.provider?.startsWith('AMAZON_SES_') === true ||
    /^email-smtp(-fips)?\.[a-z0-9-]+\.amazonaws\.com$/i.test(settings.host)
  );
}

export function sesReturnPathNotice(bounceDomain: string): string {
  return `BOUNCE_DOMAIN is set, so mail goes out with the envelope sender bounces+<token>@${bounceDomain}; Amazon SES refuses every send from an envelope sender that is not a verified identity: verify ${bounceDomain} in SES (or unset BOUNCE_DOMAIN and take bounces from SES's notifications, /webhooks/ses)`;
}

/** The notice for SMTP settings that send through SES with BOUNCE_DOMAIN set; else null. */
export function sesReturnPathWarning(
  settings: { provider: string | null; endpoint: { host: string } },
  bounceDomain: string | null,
): string | null {
  return bounceDomain !== null &&
    isAmazonSes({ provider: settings.provider, host: settings.endpoint.host })
    ? sesReturnPathNotice(bounceDomain)
    : null;
}
