import type { MailBacklog } from '../domain/mail-backlog.ts';

/** The main thread's copy of the delivery worker's backlog (domain/mail-backlog.ts). */
export interface MailBacklogState extends MailBacklog {
  /** What the delivery thread reported; a repeat of the current value changes nothing. */
  set(backlogged: boolean): void;
}

export function createMailBacklog(): MailBacklogState {
  let backlogged = false;
  const listeners = new Set<(backlogged: boolean) => void>();
  return {
    backlogged: () => backlogged,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(value) {
      if (value === backlogged) return;
      backlogged = value;
      for (const listener of [...listeners]) listener(value);
    },
  };
}
