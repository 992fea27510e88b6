/**
 * Test helpers: plain undici requests to the simulator over HTTPS, trusting
 * its CA (the API client is not used here on purpose: it is tested against
 * the simulator, not the other way round).
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import type { PveSimulator } from '../../../src/sim/index.js';

export interface Answer {
  status: number;
  reason: string;
  json: { data: unknown; total?: number; errors?: Record<string, string>; message?: string };
  headers: Record<string, string | string[] | undefined>;
}

export interface CallOptions {
  token?: string;
  ticket?: string;
  csrf?: string;
  form?: Record<string, string>;
  json?: unknown;
  query?: Record<string, string>;
}

/** A caller bound to one simulator; `close()` releases its agent. */
export function client(sim: PveSimulator) {
  const agent = new Agent({ connect: { ca: sim.caCertPem } });
  async function call(method: string, apiPath: string, opts: CallOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `PVEAPIToken=${opts.token}`;
    if (opts.ticket) headers.cookie = `PVEAuthCookie=${encodeURIComponent(opts.ticket)}`;
    if (opts.csrf) headers.csrfpreventiontoken = opts.csrf;
    let body: string | undefined;
    if (opts.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(opts.form).toString();
    } else if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    const qs = opts.query ? `?${new URLSearchParams(opts.query)}` : '';
    const res = await request(`${sim.url}/api2/json${apiPath}${qs}`, {
      method: method as 'GET',
      headers,
      body,
      dispatcher: agent,
    });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      reason: res.statusText,
      json: text ? JSON.parse(text) : { data: null },
      headers: res.headers,
    };
  }
  return { call, agent, close: () => agent.close() };
}

/** Polls a task until stopped (bounded). */
export async function waitTask(
  call: ReturnType<typeof client>['call'],
  node: string,
  upid: string,
  auth: CallOptions,
): Promise<Record<string, unknown>> {
  for (let i = 0; i < 400; i++) {
    const a = await call('GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`, auth);
    const data = a.json.data as Record<string, unknown>;
    if (data.status === 'stopped') return data;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`task ${upid} did not stop`);
}

/** All log lines of a task. */
export async function taskLog(
  call: ReturnType<typeof client>['call'],
  node: string,
  upid: string,
  auth: CallOptions,
): Promise<string[]> {
  const a = await call('GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/log`, {
    ...auth,
    query: { start: '0', limit: '1000' },
  });
  return (a.json.data as { n: number; t: string }[]).map((l) => l.t);
}

/**
 * A temp dir with a hook script that appends one JSON line per call (argv and
 * environment) to `calls.jsonl`, prints a line, and exits with the code named
 * in `fail-<phase>` files if present.
 */
export async function recordingHook(): Promise<{
  dir: string;
  script: string;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sim-hook-'));
  const script = path.join(dir, 'hook.sh');
  await writeFile(
    script,
    `#!/bin/sh
# env is replaced by vzdump: no PATH, so use absolute paths only.
out='${dir}/calls.jsonl'
args=""
for a in "$@"; do args="$args\\"$a\\","; done
envs=$(/usr/bin/env | /usr/bin/sort | /usr/bin/sed 's/"/\\\\"/g; s/^/"/; s/$/",/' | /usr/bin/tr -d '\\n')
tf=no; if [ -n "$TARGET$TARFILE" ] && [ -f "$TARGET$TARFILE" ]; then tf=yes; fi
lf=no; if [ -n "$LOGFILE" ] && [ -f "$LOGFILE" ]; then lf=yes; fi
printf '{"argv":[%s""],"env":[%s""],"target":"%s","log":"%s"}\\n' "$args" "$envs" "$tf" "$lf" >> "$out"
echo "hook says $1"
if [ -f '${dir}/fail-'"$1" ]; then exit $(/bin/cat '${dir}/fail-'"$1"); fi
exit 0
`,
  );
  await chmod(script, 0o755);
  return { dir, script, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Parsed calls of a recording hook. */
export interface HookRecord {
  argv: string[];
  env: Record<string, string>;
  /** Whether the archive ($TARGET/$TARFILE) and $LOGFILE existed when the hook ran. */
  targetExists: boolean;
  logExists: boolean;
}

export function parseCalls(text: string): HookRecord[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const raw = JSON.parse(l) as { argv: string[]; env: string[]; target: string; log: string };
      const env: Record<string, string> = {};
      for (const e of raw.env.filter((x) => x !== '')) {
        const i = e.indexOf('=');
        env[e.slice(0, i)] = e.slice(i + 1);
      }
      return {
        argv: raw.argv.filter((x) => x !== ''),
        env,
        targetExists: raw.target === 'yes',
        logExists: raw.log === 'yes',
      };
    });
}
