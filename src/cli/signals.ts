// SIGINT (Ctrl+C) and SIGTERM (kill, a scheduler's time limit, docker stop) cancel a running
// command the same way: the command stops at its next check, removes what it had started (a
// half-trained version's temporary folder) and exits with the shell's 128 + signal number. A
// second signal of the same kind gets Node's default handling and ends the process at once.

/** Exit status after each handled signal, as a shell reports a process killed by it. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type HandledSignal = keyof typeof SIGNAL_EXIT_CODES;

/** What {@link cancelOnSignals} returns. */
export interface SignalCancellation {
  /** Aborted on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The signal received, or null. */
  received(): HandledSignal | null;
  /** Exit status for the signal received (130 when none was, for a cancellation by other means). */
  exitCode(): number;
  /** Removes the handlers (call in `finally`). */
  dispose(): void;
}

/**
 * Turns the first SIGINT or SIGTERM into an abort of the returned signal.
 * @example const c = cancelOnSignals(); try { await work(c.signal); } finally { c.dispose(); }
 */
export function cancelOnSignals(): SignalCancellation {
  const controller = new AbortController();
  let received: HandledSignal | null = null;
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as HandledSignal[]).map((name) => {
    const handler = (): void => {
      received ??= name;
      controller.abort();
    };
    process.once(name, handler);
    return { name, handler };
  });
  return {
    signal: controller.signal,
    received: () => received,
    exitCode: () => SIGNAL_EXIT_CODES[received ?? 'SIGINT'],
    dispose: () => {
      for (const { name, handler } of handlers) process.removeListener(name, handler);
    },
  };
}
