/**
 * Imported first by cli.ts, so that a SIGINT or SIGTERM that arrives while
 * the rest of the program still loads is held, not fatal: Node's default
 * would kill the process at once, without exit 130. main() takes them over
 * and acts on them as soon as its own handlers are in place.
 */
const pending: NodeJS.Signals[] = [];
const hold = (signal: NodeJS.Signals) => {
  pending.push(signal);
};
process.on('SIGINT', hold);
process.on('SIGTERM', hold);

/** Stop holding signals; returns those that came so far, in order. */
export function takeEarlySignals(): NodeJS.Signals[] {
  process.off('SIGINT', hold);
  process.off('SIGTERM', hold);
  return pending.splice(0);
}
