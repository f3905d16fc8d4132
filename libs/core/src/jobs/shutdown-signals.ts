import { constants } from 'node:os';

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Calls `then` once on the next SIGTERM or SIGINT, for a process that is already shutting down gracefully (Nest's
 * shutdown hooks took the first one and removed their own listeners). Returns the function that stops listening.
 * While listening, those signals no longer kill the process by default: `then` must exit.
 */
export function onSecondSignal(then: (signal: NodeJS.Signals) => void): () => void {
  const listener = (signal: NodeJS.Signals): void => {
    stop();
    then(signal);
  };
  const stop = (): void => {
    for (const s of STOP_SIGNALS) process.off(s, listener);
  };
  for (const s of STOP_SIGNALS) process.once(s, listener);
  return stop;
}

/** The shell's exit code for a process ended by `signal` (143 for SIGTERM, 130 for SIGINT). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 15);
}
