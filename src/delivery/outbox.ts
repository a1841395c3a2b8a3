import { createHash, randomUUID } from 'node:crypto';
import type { MessageRepository } from '../db/messages.ts';
import type { Header, Message } from '../domain/message.ts';
import type { EventBus } from './event-bus.ts';
import {
  addressProblem,
  headerProblems,
  LIMITS,
  singleLineProblem,
  type InputProblem,
} from './input-rules.ts';
import type { SmtpSettings } from './smtp-settings.ts';

export interface SendEmailInput {
  to: string;
  subject: string;
  text?: string | null | undefined;
  html?: string | null | undefined;
  headers?: readonly Header[] | null | undefined;
  idempotencyKey?: string | null | undefined;
}

export type SendResult =
  | { ok: true; message: Message }
  | { ok: false; kind: 'invalid'; problems: InputProblem[] }
  | { ok: false; kind: 'idempotency_conflict'; message: Message };

export type TransitionResult =
  | { ok: true; message: Message }
  | { ok: false; kind: 'not_found' }
  | { ok: false; kind: 'conflict'; message: Message };

export interface OutboxDeps {
  messages: MessageRepository;
  bus: EventBus;
  settings: SmtpSettings;
  maxAttempts: number;
  /** Called after something became due, so the worker need not wait for its next poll. */
  wakeWorker: () => void;
  now?: () => number;
}

function validate(input: SendEmailInput): InputProblem[] {
  const problems: InputProblem[] = [];
  const toProblem = addressProblem(input.to);
  if (toProblem) problems.push({ field: 'input.to', problem: toProblem });
  const subjectProblem = singleLineProblem(input.subject, LIMITS.subjectLength);
  if (subjectProblem) problems.push({ field: 'input.subject', problem: subjectProblem });
  const text = input.text ?? null;
  const html = input.html ?? null;
  if (text === null && html === null) {
    problems.push({ field: 'input.text', problem: 'give text, html or both' });
  }
  for (const [field, body] of [
    ['input.text', text],
    ['input.html', html],
  ] as const) {
    if (body !== null && Buffer.byteLength(body) > LIMITS.bodyBytes) {
      problems.push({ field, problem: `must be at most ${LIMITS.bodyBytes} bytes` });
    }
  }
  problems.push(...headerProblems(input.headers ?? [], 'input.headers'));
  const key = input.idempotencyKey ?? null;
  if (key !== null && (key.length === 0 || key.length > LIMITS.idempotencyKeyLength)) {
    problems.push({
      field: 'input.idempotencyKey',
      problem: `must be 1 to ${LIMITS.idempotencyKeyLength} characters`,
    });
  }
  return problems;
}

/** Same input, same hash: tells a retried request from a different one reusing the key. */
function requestHash(input: SendEmailInput): string {
  const canonical = JSON.stringify([
    input.to,
    input.subject,
    input.text ?? null,
    input.html ?? null,
    (input.headers ?? []).map((header) => [header.name, header.value]),
  ]);
  return createHash('sha256').update(canonical).digest('base64url');
}

/** Where messages enter and where people act on them: send, retry, cancel. */
export function createOutbox(deps: OutboxDeps) {
  const now = deps.now ?? Date.now;

  function messageIdDomain(): string {
    const from = deps.settings.current()?.fromAddress ?? 'mailscope.localhost';
    return from.slice(from.lastIndexOf('@') + 1);
  }

  return {
    send(input: SendEmailInput): SendResult {
      const problems = validate(input);
      if (problems.length > 0) return { ok: false, kind: 'invalid', problems };
      const key = input.idempotencyKey ?? null;
      const result = deps.messages.enqueue(
        {
          recipient: input.to,
          subject: input.subject,
          text: input.text ?? null,
          html: input.html ?? null,
          headers: [...(input.headers ?? [])],
          // Fixed now so every attempt (and any duplicate after a crash) carries the same id and
          // receivers can de-duplicate.
          messageId: `<${randomUUID()}@${messageIdDomain()}>`,
          maxAttempts: deps.maxAttempts,
          idempotencyKey: key,
          requestHash: key === null ? null : requestHash(input),
        },
        now(),
      );
      if (result.kind === 'conflict') {
        return { ok: false, kind: 'idempotency_conflict', message: result.message };
      }
      if (result.kind === 'queued') {
        deps.bus.publish([result.event]);
        deps.wakeWorker();
      }
      return { ok: true, message: result.message };
    },

    retry(id: number): TransitionResult {
      const result = deps.messages.retry(id, deps.maxAttempts, now());
      if (result.kind !== 'changed') return { ok: false, ...result };
      deps.bus.publish([result.event]);
      deps.wakeWorker();
      return { ok: true, message: result.message };
    },

    cancel(id: number): TransitionResult {
      const result = deps.messages.cancel(id, now());
      if (result.kind !== 'changed') return { ok: false, ...result };
      deps.bus.publish([result.event]);
      return { ok: true, message: result.message };
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
