import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../src/ops/metrics.ts';
import { capturedLog } from '../helpers/captured-log.ts';
import { DELIVERY_ERROR_CODES } from '../../src/domain/delivery-error.ts';
import { MESSAGE_STATUSES } from '../../src/domain/message.ts';
import { SUBMISSION_REFUSAL_REASONS } from '../../src/smtp/submission-server.ts';

function metrics() {
  const counts = Object.fromEntries(MESSAGE_STATUSES.map((status) => [status, 0]));
  return createMetrics({
    messages: {
      countByStatus: async () => counts as never,
      queueSnapshot: async () => ({ queued: 0, oldestQueuedAtMs: null }) as never,
    },
    smtpConnections: () => 0,
    webhooksYielding: () => false,
    deliveryThreadRuntime: () => null,
    apiErrorCodes: ['UNAUTHENTICATED'],
    log: capturedLog('info').log,
  });
}

test('labelled counters and the latency histogram have every known series at zero before any event', async () => {
  const text = await metrics().render();
  for (const status of MESSAGE_STATUSES) {
    assert.match(
      text,
      new RegExp(`^mailscope_message_events_total\\{status="${status}"\\} 0$`, 'm'),
    );
  }
  assert.match(text, /^mailscope_delivery_attempts_total\{outcome="sent",error_code="none"\} 0$/m);
  for (const code of DELIVERY_ERROR_CODES) {
    assert.match(
      text,
      new RegExp(
        `^mailscope_delivery_attempts_total\\{outcome="failed",error_code="${code}"\\} 0$`,
        'm',
      ),
    );
  }
  for (const outcome of ['sent', 'failed']) {
    assert.match(
      text,
      new RegExp(`^mailscope_smtp_send_duration_seconds_count\\{outcome="${outcome}"\\} 0$`, 'm'),
    );
  }
  assert.match(text, /^mailscope_api_errors_total\{code="UNAUTHENTICATED"\} 0$/m);
  for (const reason of SUBMISSION_REFUSAL_REASONS) {
    assert.match(
      text,
      new RegExp(`^mailscope_submission_refusals_total\\{reason="${reason}"\\} 0$`, 'm'),
    );
  }
  assert.match(text, /^mailscope_submitted_messages_total 0$/m);
});

test('an event moves its own series off zero and leaves the others', async () => {
  const m = metrics();
  m.observeAttempts([{ errorCode: null, durationMs: 20 } as never]);
  const text = await m.render();
  assert.match(text, /^mailscope_smtp_send_duration_seconds_count\{outcome="sent"\} 1$/m);
  assert.match(text, /^mailscope_smtp_send_duration_seconds_count\{outcome="failed"\} 0$/m);
});
