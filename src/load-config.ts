import { addressProblem } from './delivery/input-rules.ts';
import { loadConfig, type ConfigResult } from './config.ts';
import { parseSmtpUri } from './smtp/uri.ts';

/**
 * Reads the configuration from `env`, checking SMTP_CONNECTION_URI with our own parser and
 * SMTP_FROM_ADDRESS with the API's own address rules. Apart from the app, so that the CLI reads
 * the configuration without loading the whole service.
 */
export function loadConfigFromEnv(env: NodeJS.ProcessEnv): ConfigResult {
  return loadConfig(env, {
    smtpUriProblem(uri) {
      const parsed = parseSmtpUri(uri);
      return parsed.ok ? null : parsed.problem;
    },
    addressProblem,
  });
}
