import type { DeliveryThread, DeliveryThreadHealth } from './delivery-thread-host.ts';

/**
 * The delivery thread as the rest of the service sees it, from before it is up: the thread boots
 * (a second isolate loading its own modules) while the HTTP side starts, and mail accepted
 * meanwhile waits in the queue. A wake or a settings change asked for before the thread is
 * attached is passed on when it is; health is null until then.
 */
export interface DeliveryHandle {
  wake(): void;
  settingsChanged(): void;
  health(): DeliveryThreadHealth | null;
  /** The thread is up: from now on everything goes straight to it. */
  attach(thread: DeliveryThread): void;
}

export function createDeliveryHandle(): DeliveryHandle {
  let thread: DeliveryThread | null = null;
  const pending = { wake: false, settingsChanged: false };
  return {
    wake: () => (thread ? thread.wake() : (pending.wake = true)),
    settingsChanged: () => (thread ? thread.settingsChanged() : (pending.settingsChanged = true)),
    health: () => thread?.health() ?? null,
    attach(started) {
      thread = started;
      // In the order they would have reached it: the new settings before the wake.
      if (pending.settingsChanged) started.settingsChanged();
      if (pending.wake) started.wake();
    },
  };
}
