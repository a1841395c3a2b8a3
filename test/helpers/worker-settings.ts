import type { SmtpConfigStore } from '../../src/db/port.ts';
import { createSmtpSettings, type SmtpSettings } from '../../src/delivery/smtp-settings.ts';

/**
 * The SMTP settings a delivery worker under test sends with: the environment's URI pointing at
 * a test SMTP server on loopback (cleartext), as `SMTP_CONNECTION_URI` would, read once.
 */
export async function settingsFor(
  configs: SmtpConfigStore,
  smtp: { host: string; port: number },
  fromAddress: string,
): Promise<SmtpSettings> {
  const settings = createSmtpSettings({
    configs,
    environment: {
      connectionUri: `smtp://${smtp.host}:${smtp.port}/?disable_starttls=true`,
      fromAddress,
      fromName: null,
    },
    embedded: null,
  });
  await settings.refresh();
  return settings;
}
