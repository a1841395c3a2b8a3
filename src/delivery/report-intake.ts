import type { RecordReportResult, ReportStore } from '../db/port.ts';
import type { MessageEvent } from '../domain/message.ts';
import type { IncomingReport } from '../domain/report.ts';

export interface ReportIntakeDeps {
  reports: ReportStore;
  /** Where the report's event goes (the storage's feed, like every other change). */
  publish: (events: readonly MessageEvent[]) => void;
  countUnmatched: (source: string) => void;
  countSuppression: (reason: string) => void;
  now?: () => number;
}

/**
 * Where delivery reports enter, whatever brought them (the bounce listener, a provider's
 * webhook): each is stored in one transaction, then announced on the live feed and counted.
 */
export function createReportIntake(deps: ReportIntakeDeps) {
  const now = deps.now ?? Date.now;
  return {
    async accept(report: IncomingReport): Promise<RecordReportResult> {
      const result = await deps.reports.record(report, now());
      if (result.kind === 'recorded') {
        deps.publish([result.event]);
        if (result.suppression) deps.countSuppression(result.suppression.reason);
      } else if (result.kind === 'unmatched') {
        deps.countUnmatched(report.detail.source);
      }
      return result;
    },
  };
}

export type ReportIntake = ReturnType<typeof createReportIntake>;
