import type { SmtpConfigStore, StoredDkimKey, StoredSmtpConfig } from '../db/port.ts';
import {
  checkDkimPrivateKey,
  dkimInfo,
  generateDkimPrivateKey,
  type DkimInfo,
} from '../smtp/dkim.ts';
import type { Header } from '../domain/message.ts';
import type { SmtpEndpoint } from '../smtp/endpoint.ts';
import { staticDestinationProblem, type DestinationPolicy } from '../smtp/destination-guard.ts';
import { buildProviderUri } from '../smtp/providers.ts';
import { formatSmtpUri, parseSmtpUri } from '../smtp/uri.ts';
import {
  addressProblem,
  headerProblems,
  LIMITS,
  senderDomainProblem,
  singleLineProblem,
  type InputProblem,
} from './input-rules.ts';

export type SmtpSettingsSource = 'STORED' | 'ENVIRONMENT' | 'EMBEDDED';

/** What may be shown about a configuration: the password is already replaced by "***". */
export interface SmtpSettingsView {
  connectionUri: string;
  fromAddress: string;
  fromName: string | null;
  headers: Header[];
  embedded: boolean;
  version: number | null;
  source: SmtpSettingsSource;
  createdAtMs: number | null;
  /** DKIM signing, with the record to publish; null when mail is not signed. */
  dkim: DkimInfo | null;
  /** The preset it was made with (configureSmtpProvider); null when made from a URI. */
  provider: string | null;
}

/** The configuration the worker sends with. Holds the secret inside `endpoint`. */
export interface ActiveSmtpSettings extends SmtpSettingsView {
  /** Identifies this configuration's connection pool. */
  key: string;
  endpoint: SmtpEndpoint;
  /** The key every message is signed with (a secret), or null. */
  dkimKey: StoredDkimKey | null;
}

/** DKIM in configureSmtp: absent keeps what the latest version had, null turns signing off. */
export interface DkimSettingsInput {
  domain: string;
  selector: string;
  privateKey?: string | null | undefined;
}

export interface ConfigureSmtpInput {
  connectionUri: string;
  fromAddress: string;
  fromName?: string | null | undefined;
  headers?: readonly Header[] | null | undefined;
  dkim?: DkimSettingsInput | null | undefined;
}

export interface ConfigureProviderInput {
  provider: string;
  username?: string | null | undefined;
  password: string;
  host?: string | null | undefined;
  port?: number | null | undefined;
  fromAddress: string;
  fromName?: string | null | undefined;
  headers?: readonly Header[] | null | undefined;
}

export type ConfigureResult =
  { ok: true; settings: SmtpSettingsView } | { ok: false; problems: InputProblem[] };

export interface SmtpSettingsDeps {
  configs: SmtpConfigStore;
  /** SMTP_CONNECTION_URI and friends: used while nothing is stored. */
  environment: { connectionUri: string | null; fromAddress: string; fromName: string | null };
  /** The embedded development server, when it runs. */
  embedded: { host: string; port: number } | null;
  /** Called after a new version is stored. */
  onConfigured?: (version: number) => void;
  /** SMTP_DISALLOW_PRIVATE_IPS / SMTP_ALLOWED_PORTS: what a stored URI may name. @default null */
  destination?: DestinationPolicy | null;
  /** SENDER_DOMAIN_ALLOWLIST: the domains fromAddress may use; null for any. @default null */
  senderDomainAllowlist?: readonly string[] | null;
  now?: () => number;
}

/** Problems with the sender fields shared by configureSmtp and configureSmtpProvider. */
function senderProblems(
  input: {
    fromAddress: string;
    fromName?: string | null | undefined;
    headers?: readonly Header[] | null | undefined;
  },
  allowedDomains: readonly string[] | null,
): InputProblem[] {
  const problems: InputProblem[] = [];
  const fromProblem =
    addressProblem(input.fromAddress) ?? senderDomainProblem(input.fromAddress, allowedDomains);
  if (fromProblem) problems.push({ field: 'fromAddress', problem: fromProblem });
  const fromName = input.fromName ?? null;
  const nameProblem = fromName === null ? null : singleLineProblem(fromName, LIMITS.fromNameLength);
  if (nameProblem) problems.push({ field: 'fromName', problem: nameProblem });
  problems.push(...headerProblems(input.headers ?? [], 'headers'));
  return problems;
}

/** The stored key's record; a key that no longer reads is named, not just OpenSSL's words. */
function storedDkimInfo(key: StoredDkimKey, version: number): DkimInfo {
  try {
    return dkimInfo(key);
  } catch (error) {
    throw new Error(
      `stored SMTP configuration v${version}: its DKIM private key for ${key.selector}._domainkey.${key.domain} cannot be read (${error instanceof Error ? error.message : String(error)}); restore the database from a backup, or remove the key from that configuration`,
    );
  }
}

export function createSmtpSettings(deps: SmtpSettingsDeps) {
  const now = deps.now ?? Date.now;
  const allowedDomains = deps.senderDomainAllowlist ?? null;
  let cached: ActiveSmtpSettings | null | undefined;
  // Reads and writes of the cache one at a time, so a slow read never overwrites a newer value.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => {});
    return result;
  };

  function fromStored(stored: StoredSmtpConfig): ActiveSmtpSettings {
    const parsed = parseSmtpUri(stored.connectionUri);
    // Stored URIs were validated on the way in; a parse failure means the parser got stricter.
    if (!parsed.ok) throw new Error(`stored SMTP configuration v${stored.version} is invalid`);
    return {
      key: `stored:${stored.version}`,
      endpoint: parsed.endpoint,
      connectionUri: formatSmtpUri(parsed.endpoint),
      fromAddress: stored.fromAddress,
      fromName: stored.fromName,
      headers: stored.headers,
      embedded: false,
      version: stored.version,
      source: 'STORED',
      createdAtMs: stored.createdAtMs,
      dkimKey: stored.dkim,
      dkim: stored.dkim ? storedDkimInfo(stored.dkim, stored.version) : null,
      provider: stored.provider,
    };
  }

  async function resolve(): Promise<ActiveSmtpSettings | null> {
    const stored = await deps.configs.latest();
    if (stored) return fromStored(stored);
    const { environment } = deps;
    if (environment.connectionUri !== null) {
      const parsed = parseSmtpUri(environment.connectionUri);
      if (!parsed.ok) throw new Error('SMTP_CONNECTION_URI is invalid'); // config.ts checked it
      return {
        key: 'environment',
        endpoint: parsed.endpoint,
        connectionUri: formatSmtpUri(parsed.endpoint),
        fromAddress: environment.fromAddress,
        fromName: environment.fromName,
        headers: [],
        embedded: false,
        version: null,
        source: 'ENVIRONMENT',
        createdAtMs: null,
        dkimKey: null,
        dkim: null,
        provider: null,
      };
    }
    if (deps.embedded) {
      const endpoint: SmtpEndpoint = {
        scheme: 'smtp',
        host: deps.embedded.host,
        port: deps.embedded.port,
        username: null,
        password: null,
        security: 'cleartext',
        verifyCertificate: true,
        serverName: null,
      };
      return {
        key: 'embedded',
        endpoint,
        connectionUri: formatSmtpUri(endpoint),
        fromAddress: environment.fromAddress,
        fromName: environment.fromName,
        headers: [],
        embedded: true,
        version: null,
        source: 'EMBEDDED',
        createdAtMs: null,
        dkimKey: null,
        dkim: null,
        provider: null,
      };
    }
    return null;
  }

  /**
   * The DKIM key a new version gets: 'keep' (absent: the latest version's, read when storing),
   * none, the one given, the latest version's for the same domain and selector, or a new one.
   */
  async function dkimFor(
    input: DkimSettingsInput | null | undefined,
    problems: InputProblem[],
  ): Promise<StoredDkimKey | null | 'keep'> {
    if (input === undefined) return 'keep';
    if (input === null) return null;
    const domain = input.domain.trim().toLowerCase().replace(/\.$/, '');
    const domainProblem = dkimDomainProblem(domain);
    if (domainProblem) problems.push({ field: 'dkim.domain', problem: domainProblem });
    if (!DKIM_SELECTOR.test(input.selector)) {
      problems.push({
        field: 'dkim.selector',
        problem: 'must be a DNS label such as mail or 2024a (letters, digits, "-", "_", ".")',
      });
    }
    let privateKey: string | null = null;
    if (input.privateKey != null) {
      const checked = checkDkimPrivateKey(input.privateKey);
      if ('problem' in checked) {
        problems.push({ field: 'dkim.privateKey', problem: `the key ${checked.problem}` });
      } else {
        privateKey = checked.privateKey;
      }
    }
    if (problems.length > 0) return null;
    if (privateKey === null) {
      const previous = (await deps.configs.latest())?.dkim ?? null;
      privateKey =
        previous && previous.domain === domain && previous.selector === input.selector
          ? previous.privateKey
          : await generateDkimPrivateKey();
    }
    return { domain, selector: input.selector, privateKey };
  }

  return {
    /**
     * Reads the configuration in use from storage: once before current() is first asked, and
     * again whenever another thread or instance stored one.
     */
    refresh(): Promise<void> {
      return serially(async () => {
        cached = await resolve();
      });
    },

    /** The configuration in use, or null when nothing is configured and the embedded server is off. */
    current(): ActiveSmtpSettings | null {
      if (cached === undefined) throw new Error('SMTP settings read before refresh()');
      return cached;
    },

    /**
     * Validates and stores a new version; nothing is stored when any field is bad. `provider`:
     * the preset the URI was built from (configureProvider), remembered with the version.
     */
    async configure(
      input: ConfigureSmtpInput,
      provider: string | null = null,
    ): Promise<ConfigureResult> {
      const parsed = parseSmtpUri(input.connectionUri);
      const problems = senderProblems(input, allowedDomains);
      if (!parsed.ok) problems.unshift({ field: 'connectionUri', problem: parsed.problem });
      const destinationProblem =
        parsed.ok && deps.destination
          ? staticDestinationProblem(parsed.endpoint.host, parsed.endpoint.port, deps.destination)
          : null;
      if (destinationProblem !== null) {
        problems.unshift({ field: 'connectionUri', problem: destinationProblem });
      }
      const dkim = await dkimFor(input.dkim, problems);
      if (!parsed.ok || problems.length > 0) return { ok: false, problems };

      // Store the canonical form: what was validated is exactly what is used later.
      const endpoint = parsed.endpoint;
      const active = await serially(async () => {
        const stored = await deps.configs.insert({
          connectionUri: formatSmtpUri(endpoint, { redact: false }),
          fromAddress: input.fromAddress,
          fromName: input.fromName ?? null,
          headers: [...(input.headers ?? [])],
          createdAtMs: now(),
          dkim: dkim === 'keep' ? ((await deps.configs.latest())?.dkim ?? null) : dkim,
          provider,
        });
        cached = fromStored(stored);
        return cached;
      });
      deps.onConfigured?.(active.version!);
      return { ok: true, settings: toView(active) };
    },

    /** Builds a provider preset's URI (correctly encoded) and stores it like configure(). */
    async configureProvider(input: ConfigureProviderInput): Promise<ConfigureResult> {
      const built = buildProviderUri(input.provider, {
        username: input.username ?? null,
        password: input.password,
        host: input.host ?? null,
        port: input.port ?? null,
      });
      if (!built.ok) {
        // The sender fields are checked too, so one answer lists every problem.
        return {
          ok: false,
          problems: [...built.problems, ...senderProblems(input, allowedDomains)],
        };
      }
      return this.configure({ ...input, connectionUri: built.connectionUri }, input.provider);
    },

    /** Every stored version, newest first. */
    async history(): Promise<SmtpSettingsView[]> {
      return (await deps.configs.list()).map((stored) => toView(fromStored(stored)));
    },
  };
}

export type SmtpSettings = ReturnType<typeof createSmtpSettings>;

const DKIM_SELECTOR = /^[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*$/;

function dkimDomainProblem(domain: string): string | null {
  const labels = domain.split('.');
  if (domain.length > 253 || labels.length < 2) return 'must be a domain name like example.com';
  if (!labels.every((l) => /^(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(l))) {
    return 'must be a domain name like example.com (use xn-- for non-ASCII names)';
  }
  return null;
}

export function toView(settings: ActiveSmtpSettings): SmtpSettingsView {
  const { key: _key, endpoint: _endpoint, dkimKey: _dkimKey, ...view } = settings;
  return view;
}
