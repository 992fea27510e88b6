/**
 * The notifications of a run (DESIGN.md "Configuration", `notify:`): a
 * healthchecks ping at the start, and at the end healthchecks, ntfy, a
 * webhook and a command, each when its `on:` says so. Every target has its
 * own bound and one retry, they run side by side, and a failure comes back
 * as a warning — never an exception, never another exit code. Warnings and
 * log lines name the target kind, never its URL or token (both secrets).
 */
import type { NotifyConfig, NotifyWhen } from '../config/types.js';
import { Agent } from '../undiciParts.js';
import { type SendResult, withOneRetry } from './attempts.js';
import { runCommandOnce } from './command.js';
import { type NotifyRequest, sendOnce } from './http.js';
import {
  notificationBody,
  notificationTitle,
  ntfyPriority,
  ntfyTags,
  outcomeOf,
} from './summary.js';
import {
  DEFAULT_RETRY_DELAY_MS,
  DEFAULT_TIMEOUT_MS,
  type NotifyOptions,
  type RunReportLike,
} from './types.js';

type Target = 'healthchecks' | 'ntfy' | 'webhook' | 'command';

/** Whether a target configured with `on` is due for a run that ended with `exitCode`. */
export function isDue(on: NotifyWhen, exitCode: number): boolean {
  return on === 'always' || exitCode !== 0;
}

/** `https://hc.example/ping/UUID/` + `start` → `https://hc.example/ping/UUID/start`. */
function below(url: string, tail: string): string {
  return `${url.replace(/\/+$/, '')}/${tail}`;
}

async function sendHttp(
  target: Target,
  req: NotifyRequest,
  o: NotifyOptions,
  dispatcher: Agent,
): Promise<string | undefined> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const result = await withOneRetry(
    () => sendOnce(req, { dispatcher, timeoutMs, ...(o.signal ? { signal: o.signal } : {}) }),
    {
      retryDelayMs: o.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
      ...(o.signal ? { signal: o.signal } : {}),
    },
  );
  return report(target, result, o);
}

/** Logs the result; returns the warning of a failed target. */
function report(target: Target, result: SendResult, o: NotifyOptions): string | undefined {
  if (result.ok) {
    o.logger.debug(`notify ${target}: sent`, { attempts: result.attempts });
    return undefined;
  }
  const tries = result.attempts === 1 ? '1 attempt' : `${result.attempts} attempts`;
  const warning = `notification ${target} failed after ${tries}: ${result.problem}`;
  o.logger.warn(warning);
  return warning;
}

/** Runs the senders side by side over one short-lived HTTP agent; collects the warnings. */
async function all(
  senders: ((dispatcher: Agent) => Promise<string | undefined>)[],
): Promise<string[]> {
  if (senders.length === 0) return [];
  const dispatcher = new Agent({ connections: 4 });
  try {
    const results = await Promise.all(senders.map((send) => send(dispatcher)));
    return results.filter((w): w is string => w !== undefined);
  } finally {
    // destroy, not close: a target that never answered must not hold the process.
    await dispatcher.destroy().catch(() => {});
  }
}

/**
 * The healthchecks `/start` ping at the beginning of a run (it lets
 * healthchecks measure the run time and notice a run that never ends).
 * @returns warnings (empty when it went out or none is configured)
 */
export async function pingStart(
  notify: NotifyConfig | undefined,
  o: NotifyOptions,
): Promise<string[]> {
  const url = notify?.healthchecks;
  if (url === undefined) return [];
  return all([(d) => sendHttp('healthchecks', { method: 'POST', url: below(url, 'start') }, o, d)]);
}

/**
 * Every end-of-run notification due for `exitCode`. Call it at the end of
 * every run, also one that failed early or was interrupted.
 * @returns warnings, one per target that failed even after its retry
 */
export async function sendNotifications(
  report: RunReportLike,
  exitCode: number,
  notify: NotifyConfig | undefined,
  o: NotifyOptions,
): Promise<string[]> {
  if (notify === undefined) return [];
  const body = notificationBody(report, exitCode);
  const json = JSON.stringify(report);
  const senders: ((dispatcher: Agent) => Promise<string | undefined>)[] = [];

  const hc = notify.healthchecks;
  if (hc !== undefined) {
    // healthchecks: the bare URL is success, /<code> a failure with that exit status.
    const url = exitCode === 0 ? hc : below(hc, String(exitCode));
    senders.push((d) =>
      sendHttp(
        'healthchecks',
        { method: 'POST', url, headers: { 'content-type': 'text/plain; charset=utf-8' }, body },
        o,
        d,
      ),
    );
  }
  const ntfy = notify.ntfy;
  if (ntfy !== undefined && isDue(ntfy.on, exitCode)) {
    const outcome = outcomeOf(exitCode, report.interrupted);
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=utf-8',
      title: notificationTitle(report, exitCode),
      priority: String(ntfyPriority(outcome)),
      tags: ntfyTags(outcome).join(','),
    };
    if (ntfy.token !== undefined) headers.authorization = `Bearer ${ntfy.token}`;
    senders.push((d) => sendHttp('ntfy', { method: 'POST', url: ntfy.url, headers, body }, o, d));
  }
  const hook = notify.webhook;
  if (hook !== undefined && isDue(hook.on, exitCode)) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (hook.bearer !== undefined) headers.authorization = `Bearer ${hook.bearer}`;
    senders.push((d) =>
      sendHttp('webhook', { method: 'POST', url: hook.url, headers, body: json }, o, d),
    );
  }
  const command = notify.command;
  if (command !== undefined && isDue(command.on, exitCode)) {
    senders.push(() => sendCommand(command.run, `${json}\n`, o));
  }
  return all(senders);
}

async function sendCommand(
  argv: string[],
  input: string,
  o: NotifyOptions,
): Promise<string | undefined> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signalOpt = o.signal ? { signal: o.signal } : {};
  const result = await withOneRetry(
    async () => {
      const run = await runCommandOnce(argv, input, { timeoutMs, ...signalOpt });
      // Its output is what the admin needs when it fails, and harmless when it works.
      if (run.stdout !== '') o.logger.info(`notify command ${argv[0]} stdout: ${run.stdout}`);
      if (run.stderr !== '') o.logger.info(`notify command ${argv[0]} stderr: ${run.stderr}`);
      return run.result;
    },
    { retryDelayMs: o.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS, ...signalOpt },
  );
  return report('command', result, o);
}
