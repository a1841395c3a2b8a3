import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { ReportIntake } from '../delivery/report-intake.ts';
import type { Logger } from '../logger.ts';
import type { Verp } from '../smtp/verp.ts';
import { parseReportMail, targetOf, toIncomingReport } from './parse-report.ts';

export interface BounceListenerOptions {
  host: string;
  port: number;
  /** The largest report accepted (BOUNCE_SMTP_MAX_BYTES); larger ones get 552. */
  maxBytes: number;
  verp: Verp;
  intake: ReportIntake;
  log: Logger;
}

export interface BounceListener {
  host: string;
  port: number;
  /** Stops accepting; waits for reports being stored. */
  close(): Promise<void>;
}

/** Recipients per message and messages per connection: a report has one, a relay has many. */
const MAX_RECIPIENTS = 10;
const MAX_MESSAGES_PER_CONNECTION = 100;
/** Reports stored from one mail: real DSNs carry a handful, one per failed recipient. */
const MAX_REPORTS_PER_MAIL = 100;
const MAX_CLIENTS = 100;

const smtpError = (code: number, text: string) =>
  Object.assign(new Error(text), { responseCode: code });

/**
 * The SMTP listener on BOUNCE_SMTP_PORT: accepts mail for BOUNCE_DOMAIN only (it never relays),
 * up to `maxBytes`, reads the reports in it and hands each to the intake. 250 is answered only
 * once they are stored, so a sender retries a report we could not store.
 */
export async function startBounceListener(options: BounceListenerOptions): Promise<BounceListener> {
  const { verp, intake, log } = options;
  const inFlight = new Set<Promise<unknown>>();
  const messagesPerSession = new WeakMap<SMTPServerSession, number>();

  /**
   * 'stored', or why nothing was: a mail that cannot be read is not the storage's fault, and a
   * readable one with no report in it (an auto-reply, a person's answer) is taken and dropped.
   */
  async function storeReports(
    raw: Buffer,
    rcptTo: string[],
  ): Promise<'stored' | 'ignored' | 'unreadable'> {
    let parsed: Awaited<ReturnType<typeof parseReportMail>>;
    try {
      parsed = await parseReportMail(raw);
    } catch (error) {
      // Malformed beyond reading (mailparser gave up): it never will be, so the sender must
      // not be told to try again, and it is no storage failure.
      log.info(
        { bytes: raw.length, err: error },
        'bounce listener: mail that cannot be read as a report, refused',
      );
      return 'unreadable';
    }
    if (parsed.length === 0) {
      log.info({ bytes: raw.length }, 'bounce listener: mail without a delivery report, ignored');
      return 'ignored';
    }
    // A real report names a handful of recipients; one mail naming thousands would only fill
    // the database (anyone may mail the MX). The rest are counted in the log, not stored.
    const reports = parsed.slice(0, MAX_REPORTS_PER_MAIL);
    if (parsed.length > reports.length) {
      log.warn(
        { reports: parsed.length, kept: reports.length },
        `bounce listener: a mail with ${parsed.length} reports; the first ${reports.length} kept`,
      );
    }
    // The report message's identity: the same bytes (or Message-ID) delivered twice is one.
    const identity =
      /^message-id:\s*(<[^<>\s]+>)/im.exec(raw.subarray(0, 64 * 1024).toString('latin1'))?.[1] ??
      createHash('sha256').update(raw).digest('base64url');
    for (const report of reports) {
      const target = targetOf(report, rcptTo[0] ?? '', verp);
      const result = await intake.accept(toIncomingReport(report, target, identity));
      log.debug({ kind: result.kind, outcome: report.outcome }, 'bounce listener: report');
    }
    return 'stored';
  }

  const server = new SMTPServer({
    name: 'mailscope-bounces',
    banner: 'mailscope bounce intake',
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    size: options.maxBytes,
    maxClients: MAX_CLIENTS,
    socketTimeout: 60_000,
    // On shutdown, connections still open are cut after this (reports not yet 250 are resent).
    closeTimeout: 2_000,
    logger: false,
    onMailFrom(_address, session, callback) {
      const count = (messagesPerSession.get(session) ?? 0) + 1;
      messagesPerSession.set(session, count);
      if (count > MAX_MESSAGES_PER_CONNECTION) {
        callback(smtpError(421, '4.7.0 Too many messages on one connection; reconnect'));
        return;
      }
      callback();
    },
    onRcptTo(address, session, callback) {
      const at = address.address.lastIndexOf('@');
      const domain = address.address.slice(at + 1).toLowerCase();
      if (at < 0 || domain !== verp.domain) {
        callback(smtpError(550, '5.7.1 Relaying denied: this server accepts reports only'));
        return;
      }
      if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) {
        callback(smtpError(452, '4.5.3 Too many recipients'));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        if (!(stream as { sizeExceeded?: boolean }).sizeExceeded) chunks.push(chunk);
      });
      stream.on('end', () => {
        if ((stream as { sizeExceeded?: boolean }).sizeExceeded) {
          callback(smtpError(552, '5.3.4 Message too big for a delivery report'));
          return;
        }
        const rcptTo = session.envelope.rcptTo.map((rcpt) => rcpt.address);
        const work = storeReports(Buffer.concat(chunks), rcptTo).then(
          (outcome) =>
            outcome === 'stored'
              ? callback(null, '2.0.0 Report received')
              : outcome === 'ignored'
                ? callback(null, '2.0.0 Ok: no delivery report found in it; ignored')
                : callback(smtpError(550, '5.6.0 The message cannot be read as a report')),
          (error: unknown) => {
            log.error({ err: error }, 'bounce listener: could not store a report');
            callback(smtpError(451, '4.3.0 Could not store the report now; try again later'));
          },
        );
        inFlight.add(work);
        void work.finally(() => inFlight.delete(work));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const address = server.server.address() as AddressInfo;
  return {
    host: options.host,
    port: address.port,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...inFlight]);
    },
  };
}
