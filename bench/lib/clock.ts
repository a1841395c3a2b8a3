import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/**
 * A high-resolution timestamp comparable across this machine's processes: the wall clock at
 * process start plus the monotonic time since. Child processes report times in it, and the
 * bench turns them into its own clock with the offset measured by `clockOffsetMs`.
 */
export const clockNow = () => performance.timeOrigin + performance.now();

/** In a child process: answers the parent's clock pings over IPC (see `clockOffsetMs`). */
export function answerClockPings(): void {
  process.on('message', (message: { type: string; id?: number }) => {
    if (message.type === 'clock') process.send!({ type: 'clock', id: message.id, now: clockNow() });
  });
}

/**
 * How far `child`'s `clockNow()` is ahead of this process's, in ms, from the ping with the
 * shortest round trip (NTP's rule): child time minus the midpoint of send and receive. Two
 * processes' `timeOrigin` can differ by a few tenths of a millisecond (each reads the wall clock
 * once, at its own start), and latencies across processes are measured in milliseconds.
 */
export async function clockOffsetMs(child: ChildProcess, pings = 20): Promise<number> {
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
  for (let id = 0; id < pings; id++) {
    const sent = clockNow();
    const childNow = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to a clock ping in 5 s')), 5_000);
      const onMessage = (message: { type: string; id?: number; now?: number }) => {
        if (message.type !== 'clock' || message.id !== id) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(message.now!);
      };
      child.on('message', onMessage);
      child.send({ type: 'clock', id });
    });
    const received = clockNow();
    if (received - sent < best.rtt) {
      best = { rtt: received - sent, offset: childNow - (sent + received) / 2 };
    }
  }
  return best.offset;
}
