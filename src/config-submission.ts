import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { wholeNumber, optionalText } from './config-fields.ts';
import { tlsPairProblems, type PemFile, type TlsPairNames } from './config-tls-pair.ts';

// The SMTP submission listener: applications that only speak SMTP send through it.

/** Merged into config.ts's environment schema. */
export const submissionEnvShape = {
  SUBMISSION_PORT: z
    .union([z.literal('off'), wholeNumber(0, 65_535)], {
      error: 'must be a port number (0-65535) or "off"',
    })
    .default('off'),
  SUBMISSION_HOST: optionalText,
  SUBMISSION_TLS_CERT: optionalText,
  SUBMISSION_TLS_KEY: optionalText,
  SUBMISSION_IMPLICIT_TLS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false'),
  // 1 KiB is already useless, but an operator may want a tiny limit for a test.
  SUBMISSION_MAX_BYTES: wholeNumber(1_024, 1_073_741_824).default(26_214_400),
};

type SubmissionEnv = {
  [K in keyof typeof submissionEnvShape]: z.output<(typeof submissionEnvShape)[K]>;
};

/** The variables the submission certificate and key are named by, in problems and logs. */
export const SUBMISSION_TLS_NAMES: TlsPairNames = {
  cert: 'SUBMISSION_TLS_CERT',
  key: 'SUBMISSION_TLS_KEY',
};

/** The file's text, or why it cannot be read. */
function read(path: string): { pem: string } | { problem: string } {
  try {
    return { pem: readFileSync(path, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { problem: `cannot read "${path}" (${code})` };
  }
}

/**
 * What the submission variables need of each other (and of the files they name), from the raw
 * values, so that these are reported with every single-variable problem.
 */
export function submissionProblems(present: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const cert = present['SUBMISSION_TLS_CERT'];
  const key = present['SUBMISSION_TLS_KEY'];
  if ((cert === undefined) !== (key === undefined)) {
    problems.push(
      cert === undefined
        ? 'SUBMISSION_TLS_CERT: must be set together with SUBMISSION_TLS_KEY'
        : 'SUBMISSION_TLS_KEY: must be set together with SUBMISSION_TLS_CERT',
    );
  }
  const readAs = (name: string, path: string | undefined): PemFile | null => {
    if (path === undefined) return null;
    const file = read(path);
    if ('pem' in file) return { path, pem: file.pem };
    problems.push(`${name}: ${file.problem}`);
    return null;
  };
  const certFile = readAs(SUBMISSION_TLS_NAMES.cert, cert);
  const keyFile = readAs(SUBMISSION_TLS_NAMES.key, key);
  if (certFile !== null && keyFile !== null) {
    problems.push(...tlsPairProblems(SUBMISSION_TLS_NAMES, certFile, keyFile));
  }
  if (present['SUBMISSION_IMPLICIT_TLS'] === 'true' && (cert === undefined || key === undefined)) {
    problems.push(
      'SUBMISSION_IMPLICIT_TLS: needs a certificate: set SUBMISSION_TLS_CERT and SUBMISSION_TLS_KEY',
    );
  }
  return problems;
}

/** The listener's options (variables already parsed, and checked by `submissionProblems`). */
export function submissionConfig(env: SubmissionEnv, host: string) {
  const tls =
    env.SUBMISSION_TLS_CERT !== null && env.SUBMISSION_TLS_KEY !== null
      ? {
          cert: readFileSync(env.SUBMISSION_TLS_CERT, 'utf8'),
          key: readFileSync(env.SUBMISSION_TLS_KEY, 'utf8'),
          /** Where they were read from: a renewal there is taken without a restart. */
          files: { cert: env.SUBMISSION_TLS_CERT, key: env.SUBMISSION_TLS_KEY },
        }
      : null;
  return {
    /** SUBMISSION_PORT: the SMTP submission listener's port; null when `off`. @default null */
    port: env.SUBMISSION_PORT === 'off' ? null : env.SUBMISSION_PORT,
    /** SUBMISSION_HOST: where it listens. @default HOST */
    host: env.SUBMISSION_HOST ?? host,
    /**
     * SUBMISSION_TLS_CERT / SUBMISSION_TLS_KEY, read at start and again when renewed: STARTTLS
     * is offered when set. The key is a secret: never logged. @default null
     */
    tls,
    /** SUBMISSION_IMPLICIT_TLS: TLS from the first byte (port 465 style). @default false */
    implicitTls: env.SUBMISSION_IMPLICIT_TLS === 'true',
    /** SUBMISSION_MAX_BYTES: the largest message accepted, announced in EHLO. @default 26_214_400 */
    maxBytes: env.SUBMISSION_MAX_BYTES,
  };
}

export type SubmissionConfig = ReturnType<typeof submissionConfig>;
