/**
 * A parsed SMTP connection URI: where to connect and how to secure it. Produced by `uri.ts`,
 * consumed by `transport.ts`. Holds the decoded password, so it must never be logged or returned.
 */
export type SmtpSecurity =
  /** `smtp://`: STARTTLS is required; never falls back to cleartext. */
  | 'starttls'
  /** `smtps://`: TLS from the first byte. */
  | 'implicit-tls'
  /** `smtp://…?disable_starttls=true`: no TLS at all (development only). */
  | 'cleartext';

export interface SmtpEndpoint {
  scheme: 'smtp' | 'smtps';
  host: string;
  port: number;
  /** Decoded user name, or null for no AUTH. */
  username: string | null;
  /** Decoded password, or null. Secret. */
  password: string | null;
  security: SmtpSecurity;
  /** False with `skip_ssl_verify=true`. Always true for cleartext (there is nothing to verify). */
  verifyCertificate: boolean;
  /** `server_name=`: the name the certificate is checked against (and sent as SNI), else null. */
  serverName: string | null;
}
