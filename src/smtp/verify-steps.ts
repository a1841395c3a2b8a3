/**
 * The steps of `verify.ts`, in the order the security mode asks for, each timed and stopped at
 * the first failure. Failures are classified by `classify.ts` from errors shaped like
 * nodemailer's, so that a verification and a failed delivery explain the same problem alike.
 */
import { lookupHost } from '../dns/thread-dns.ts';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type tls from 'node:tls';
import type { DeliveryError } from '../domain/delivery-error.ts';
import { classifySmtpError } from './classify.ts';
import type { SmtpEndpoint } from './endpoint.ts';
import type { VerifyOptions, VerifyStep, VerifyStepName } from './verify-types.ts';
import {
  authenticate,
  chooseMechanism,
  defaultClientName,
  describeAuthProblem,
  NO_EXTENSIONS,
  parseEhlo,
  type AuthProblem,
  type EhloInfo,
} from './verify-auth.ts';
import { SmtpSession, type SmtpReply } from './verify-session.ts';
import { checkDestination, type DestinationPolicy } from './destination-guard.ts';
import { inspectTls, secureContextFor, tlsConnectionOptions } from './verify-tls.ts';
import { usernameIsSecret } from './secret-username.ts';

type StepOutcome = Omit<VerifyStep, 'name' | 'ok' | 'durationMs' | 'error'>;

/** A step's expected failure: the classified error plus whatever the step saw before it failed. */
class StepFailure extends Error {
  constructor(
    readonly error: DeliveryError,
    readonly seen: Partial<StepOutcome> = {},
  ) {
    super(error.message);
  }
}

type PlannedStep = readonly [VerifyStepName, string, () => Promise<StepOutcome>];

export class Verification {
  readonly steps: VerifyStep[] = [];
  readonly #endpoint: SmtpEndpoint;
  readonly #timeoutMs: number;
  readonly #clientName: string;
  readonly #secureContext: tls.SecureContext | undefined;
  readonly #where: string;
  #addresses: string[] = [];
  readonly #destination: DestinationPolicy | null;
  #session: SmtpSession | null = null;
  #ehlo: EhloInfo = NO_EXTENSIONS;
  /** What a failure of the current step is reported as having failed at. */
  #command = 'CONN';

  constructor(endpoint: SmtpEndpoint, options: VerifyOptions) {
    this.#endpoint = endpoint;
    this.#timeoutMs = options.timeoutMs;
    this.#clientName = (options.clientName ?? defaultClientName()).replace(/[\r\n]+/g, '');
    this.#secureContext =
      endpoint.security === 'cleartext'
        ? undefined
        : secureContextFor(options.extraCaCertificates ?? []);
    this.#where = `${endpoint.host}:${endpoint.port}`;
    this.#destination = options.destination ?? null;
  }

  async run(): Promise<void> {
    const { security, username } = this.#endpoint;
    const tlsCommand = security === 'starttls' ? 'STARTTLS' : 'CONN';
    const tlsStep: PlannedStep = ['TLS', tlsCommand, () => this.#tls()];
    const ehloStep: PlannedStep = ['EHLO', 'EHLO', () => this.#ehloStep()];
    const plan: PlannedStep[] = [
      ['DNS', 'CONN', () => this.#resolve()],
      ['CONNECT', 'CONN', () => this.#connect()],
      ...(security === 'implicit-tls' ? [tlsStep] : []),
      ['GREETING', 'CONN', () => this.#greeting()],
      ehloStep,
      ...(security === 'starttls'
        ? [['STARTTLS', 'STARTTLS', () => this.#startTls()] as const, tlsStep, ehloStep]
        : []),
      ...(username !== null ? [['AUTH', 'AUTH', () => this.#auth()] as const] : []),
    ];
    for (const [name, command, body] of plan) {
      if (!(await this.#step(name, command, body))) return;
    }
  }

  async close(): Promise<void> {
    await this.#session?.close(this.#timeoutMs);
  }

  async #step(
    name: VerifyStepName,
    command: string,
    body: () => Promise<StepOutcome>,
  ): Promise<boolean> {
    const startedAt = performance.now();
    this.#command = command;
    try {
      const outcome = await body();
      this.steps.push({ name, ok: true, durationMs: since(startedAt), ...outcome });
      return true;
    } catch (thrown) {
      const failure =
        thrown instanceof StepFailure ? thrown : new StepFailure(this.#classify(thrown));
      this.steps.push({
        name,
        ok: false,
        durationMs: since(startedAt),
        ...failure.seen,
        detail: failure.seen.detail ?? failure.error.message,
        error: failure.error,
      });
      return false;
    }
  }

  get #wire(): SmtpSession {
    if (this.#session === null) throw new Error('not connected');
    return this.#session;
  }

  async #resolve(): Promise<StepOutcome> {
    if (this.#destination !== null) return this.#resolveGuarded(this.#destination);
    const { host } = this.#endpoint;
    if (net.isIP(host)) {
      this.#addresses = [host];
      return { detail: `${host} is an IP address; no lookup needed`, addresses: [host] };
    }
    let found: { address: string }[];
    try {
      found = (await withTimeout(lookupHost(host), this.#timeoutMs)).map((address) => ({
        address,
      }));
    } catch (error) {
      if (error === TIMED_OUT) {
        throw new StepFailure(
          deliveryError({
            code: 'TIMEOUT',
            command: 'CONN',
            message: `Timed out resolving the host name ${host} after ${this.#timeoutMs} ms`,
            hint: 'The DNS resolver of this machine did not answer in time. Check its DNS settings, then try again.',
          }),
        );
      }
      const { code, message } = error as { code?: string; message?: string };
      throw error instanceof Error
        ? Object.assign(new Error(message), { code: 'EDNS', originalCode: code })
        : error;
    }
    if (found.length === 0) {
      throw Object.assign(new Error(`no addresses for ${host}`), {
        code: 'EDNS',
        originalCode: 'ENOTFOUND',
      });
    }
    this.#addresses = found.map((entry) => entry.address);
    return {
      detail: `resolved ${host} to ${this.#addresses.join(', ')}`,
      addresses: this.#addresses,
    };
  }

  /** DNS with the destination guard on: the addresses found are the ones checked and dialled. */
  async #resolveGuarded(policy: DestinationPolicy): Promise<StepOutcome> {
    const { host, port } = this.#endpoint;
    const check = await checkDestination(host, port, policy);
    if (!check.ok) {
      throw new StepFailure(
        deliveryError({
          code: check.code === 'EDNS' ? 'CONNECTION' : 'CONFIG',
          command: 'CONN',
          message: check.message,
          hint:
            check.code === 'EDNS'
              ? `Check the spelling of ${host} in the connection URI.`
              : 'This service only connects to public SMTP servers on the allowed ports (SMTP_DISALLOW_PRIVATE_IPS, SMTP_ALLOWED_PORTS).',
        }),
      );
    }
    this.#addresses = check.addresses;
    return {
      detail: `resolved ${host} to ${check.addresses.join(', ')}`,
      addresses: check.addresses,
    };
  }

  async #connect(): Promise<StepOutcome> {
    const { port } = this.#endpoint;
    const startedAt = performance.now();
    const connected = await SmtpSession.connect(this.#addresses, port, this.#timeoutMs).catch(
      async (error: unknown) => {
        if (this.#destination === null) throw error;
        // With the guard on, verifySmtp must not work as a port scanner: a refused and a
        // filtered port look the same, in words and in time (the whole connect timeout).
        const left = this.#timeoutMs - (performance.now() - startedAt);
        if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
        throw new StepFailure(
          deliveryError({
            code: 'CONNECTION',
            command: 'CONN',
            message: `Could not connect to ${this.#where}`,
            hint: 'Nothing answered: the port is closed or filtered (not told apart while SMTP_DISALLOW_PRIVATE_IPS or SMTP_ALLOWED_PORTS is set). Check the host, the port and firewalls.',
          }),
        );
      },
    );
    this.#session = connected.session;
    const refused = connected.refused.length > 0 ? ` (after ${connected.refused.join('; ')})` : '';
    return { detail: `connected to ${connected.remote}${refused}` };
  }

  async #tls(): Promise<StepOutcome> {
    const options = tlsConnectionOptions(this.#endpoint, this.#secureContext);
    const socket = await this.#wire.startTls(options, this.#timeoutMs);
    const { details, summary, problems } = inspectTls(socket, this.#endpoint);
    const [first, ...others] = problems.map((problem) => this.#classify(problem));
    if (this.#endpoint.verifyCertificate && first) {
      // A verifying client stops at the first problem; the others are worth knowing too.
      const more = others.map((other) => `Also: ${other.message}. ${other.hint ?? ''}`.trim());
      const hint = [first.hint, ...more].filter((part) => part).join(' ');
      throw new StepFailure({ ...first, hint }, { detail: summary, tls: details });
    }
    return { detail: summary, tls: details };
  }

  async #greeting(): Promise<StepOutcome> {
    const reply = await this.#wire.readReply(this.#timeoutMs, 'GREETING_TIMEOUT');
    if (reply.code === 220) return { detail: oneLine(reply), banner: reply.text };
    throw new StepFailure(
      reply.code >= 400
        ? this.#replyError(reply, 'CONN')
        : this.#unexpected(reply, 'CONN', 'a 220 greeting'),
      { banner: reply.text },
    );
  }

  async #ehloStep(): Promise<StepOutcome> {
    const reply = await this.#wire.command(`EHLO ${this.#clientName}`, this.#timeoutMs);
    if (reply.code >= 200 && reply.code < 300) {
      this.#ehlo = parseEhlo(reply);
      const list = this.#ehlo.extensions.join(', ') || 'none';
      const hello = `${reply.code} ${reply.lines[0]!.slice(4)}`.trim();
      return { detail: `${hello}; extensions: ${list}`, ...this.#ehlo };
    }
    // As nodemailer does; except where STARTTLS must follow, which needs EHLO.
    if (reply.code >= 500 && this.#endpoint.security !== 'starttls') {
      this.#command = 'HELO';
      const helo = await this.#wire.command(`HELO ${this.#clientName}`, this.#timeoutMs);
      if (helo.code >= 200 && helo.code < 300) {
        this.#ehlo = NO_EXTENSIONS;
        const detail = `EHLO refused (${oneLine(reply)}); HELO accepted (${oneLine(helo)}): no extensions`;
        return { detail, ...this.#ehlo };
      }
      throw new StepFailure(this.#replyError(helo, 'HELO'));
    }
    throw new StepFailure(this.#replyError(reply, 'EHLO'));
  }

  async #startTls(): Promise<StepOutcome> {
    const advertised = this.#ehlo.startTls;
    const reply = await this.#wire.command('STARTTLS', this.#timeoutMs);
    if (reply.code === 220) {
      const note = advertised
        ? ''
        : ' (STARTTLS was not advertised; tried anyway, smtp:// needs it)';
      return { detail: `${oneLine(reply)}${note}` };
    }
    // Classified as nodemailer's requireTLS failure: TLS code, hint towards smtps:// on 465.
    throw new StepFailure(this.#replyError(reply, 'STARTTLS', 'ETLS'));
  }

  async #auth(): Promise<StepOutcome> {
    const { username, password, security } = this.#endpoint;
    // Unreachable by construction (TLS comes first); kept so that no change of the plan can leak.
    if (security !== 'cleartext' && !this.#wire.encrypted) {
      throw new Error('refusing to send credentials before TLS');
    }
    const offered = this.#ehlo.authMechanisms;
    if (password === null) throw new StepFailure(this.#authProblem('no-password'));
    if (offered.length === 0) throw new StepFailure(this.#authProblem('not-offered'));
    const mechanism = chooseMechanism(offered);
    if (mechanism === null) throw new StepFailure(this.#authProblem('no-mechanism'));
    this.#command = `AUTH ${mechanism}`;
    const credentials = { username: username ?? '', password };
    const reply = await authenticate(this.#wire, mechanism, credentials, this.#timeoutMs);
    const auth = { mechanism, accepted: reply.code === 235, response: reply.text };
    if (!auth.accepted) {
      throw new StepFailure(this.#replyError(reply, this.#command, 'EAUTH'), { auth });
    }
    const cleartext = security === 'cleartext' ? ' (sent in cleartext: disable_starttls=true)' : '';
    // A user name that is a credential (Postmark's token) is not repeated back.
    const who = usernameIsSecret(this.#endpoint) ? '***' : username;
    return { detail: `${mechanism} accepted for ${who}: ${oneLine(reply)}${cleartext}`, auth };
  }

  #authProblem(problem: AuthProblem): DeliveryError {
    const texts = describeAuthProblem(problem, this.#endpoint, this.#ehlo.authMechanisms);
    return deliveryError({ code: 'AUTH', command: 'AUTH', ...texts });
  }

  /** A reply the step did not want, explained by classify.ts as nodemailer's would be. */
  #replyError(reply: SmtpReply, command: string, code = 'EPROTOCOL'): DeliveryError {
    const error = Object.assign(new Error(`${command} failed: ${oneLine(reply)}`), {
      code,
      response: reply.text,
      responseCode: reply.code,
      command,
    });
    return this.#classify(error);
  }

  #unexpected(reply: SmtpReply, command: string, wanted: string): DeliveryError {
    return deliveryError({
      code: 'PROTOCOL',
      command,
      responseCode: reply.code,
      response: reply.text,
      message: `Unexpected reply from ${this.#where}: wanted ${wanted}, got ${oneLine(reply)}`,
      hint: `Check that ${this.#where} is an SMTP server (the port may belong to another service).`,
    });
  }

  #classify(thrown: unknown): DeliveryError {
    const error = classifySmtpError(thrown, this.#endpoint);
    const { code, timeoutType } = (thrown ?? {}) as { code?: unknown; timeoutType?: unknown };
    // classify.ts cannot tell which command an idle timeout hit; here the step knows.
    if (code === 'ETIMEDOUT' && timeoutType === undefined && this.#command !== 'CONN') {
      error.message = `No reply to ${this.#command} from ${this.#where} within ${this.#timeoutMs} ms`;
    }
    return { ...error, command: error.command ?? this.#command };
  }
}

function deliveryError(
  fields: Pick<DeliveryError, 'code' | 'message' | 'hint' | 'command'> & Partial<DeliveryError>,
): DeliveryError {
  return {
    responseCode: null,
    enhancedStatus: null,
    response: null,
    permanent: false,
    ...fields,
  };
}

/** The first line of a reply, noting how many more there were. */
function oneLine(reply: SmtpReply): string {
  const more = reply.lines.length - 1;
  return more > 0 ? `${reply.lines[0]} (+${more} more lines)` : (reply.lines[0] ?? '');
}

function since(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}

const TIMED_OUT = Symbol('timed out');

/** `dns.lookup` cannot be cancelled; its late answer is ignored. */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(TIMED_OUT), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
