/**
 * `pve-ftp-backup demo`: a real run against a simulated two-node cluster and
 * an embedded FTP server, both on loopback, with the real node hook doing the
 * uploads. Needs nothing beyond `npm ci`. Runs `run` twice (two nights), prints
 * the NAS tree and the reports, and removes everything it created.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../config/index.js';
import { requireDemoDependencies } from '../demo/dependencies.js';
import { formatTree, walkTree } from '../demo/tree.js';
import { DEMO_FTP_DIR, startWorld } from '../demo/world.js';
import { ExitCode } from '../errors.js';
import { formatReportText, type RunReport } from '../orchestrator/report.js';
import type { SimNode } from '../sim/index.js';
import { executeRun } from './run.js';
import { statusText, writeStatusPage } from './status.js';
import type { Command, DemoOptions } from './types.js';
import { verifyText } from './verify.js';

const MiB = 1024 * 1024;

/** The demo cluster: two PVE 9.1 nodes with running and stopped containers. */
export function demoNodes(): SimNode[] {
  return [
    {
      name: 'pve1',
      guests: [
        { vmid: 101, type: 'lxc', name: 'web', status: 'running', archiveSize: 3 * MiB },
        { vmid: 102, type: 'lxc', name: 'db', status: 'running', archiveSize: 5 * MiB },
        { vmid: 103, type: 'lxc', name: 'old-wiki', status: 'stopped', archiveSize: 1 * MiB },
      ],
    },
    {
      name: 'pve2',
      guests: [
        { vmid: 201, type: 'lxc', name: 'mail', status: 'running', archiveSize: 4 * MiB },
        { vmid: 202, type: 'lxc', name: 'dns', status: 'running', archiveSize: 1 * MiB },
        { vmid: 203, type: 'lxc', name: 'build', status: 'stopped', archiveSize: 2 * MiB },
      ],
    },
  ];
}

/** The status page's "last run" box from a run report. */
function lastRunOf(r: RunReport) {
  return {
    runId: r.runId,
    finishedAt: r.finishedAt,
    exitCode: r.exitCode,
    summary: {
      saved: r.summary.saved,
      failed: r.summary.failed,
      notStarted: r.summary.notStarted,
      bytesSaved: r.summary.bytesSaved,
    },
  };
}

/** `demo` as called by cli.ts. */
export const demoCommand: Command<DemoOptions> = async (options, ctx) => {
  const say = (text: string) => {
    if (!options.json) ctx.stdout.write(`${text}\n`);
  };
  // ftp-srv and selfsigned are development dependencies: say how to get them before starting anything.
  await requireDemoDependencies();
  say('Starting a simulated PVE 9.1 cluster (pve1, pve2) and an FTP server on 127.0.0.1 ...');
  const world = await startWorld({ flavour: '9.1', nodes: demoNodes(), auth: 'token', keep: 3 });
  const discard = new Writable({ write: (_c, _e, cb) => cb() });
  try {
    say(
      `PVE API ${world.sim.url}, FTP ${world.ftp.host}:${world.ftp.port}, NAS dir ${DEMO_FTP_DIR}`,
    );
    say(
      'The real node hook is installed on both nodes; vzdump runs it and it uploads with curl.\n',
    );
    const reports: RunReport[] = [];
    let exitCode: number = ExitCode.ok;
    for (const night of [1, 2]) {
      if (ctx.signal.aborted) break;
      say(`== run ${night}: pve-ftp-backup run -c ${world.configPath}`);
      const result = await executeRun(
        {
          config: world.configPath,
          json: false,
          node: [],
          vmid: [],
          dryRun: false,
          noRotate: false,
          breakLock: false,
        },
        { ...ctx, stdout: discard, stderr: discard, env: { ...ctx.env, ...world.env } },
        { watch: { intervalMs: 250, firstPollMs: 50 } },
      );
      exitCode = Math.max(exitCode, result.exitCode);
      if (result.report) {
        reports.push(result.report);
        say(formatReportText(result.report));
      }
    }
    const tree = await walkTree(world.ftpRoot);
    say('== what is on the NAS now');
    say(formatTree(tree));
    // What an admin looks at in the morning: coverage, the page, and the copies read back.
    const config = await loadConfig({
      path: world.configPath,
      env: { ...ctx.env, ...world.env },
      cwd: world.tmp,
    });
    const { collectStatus } = await import('../status/collect.js');
    say(`\n== pve-ftp-backup status -c ${world.configPath}`);
    const status = await collectStatus({
      config: config.config,
      filters: { nodes: [], vmids: [] },
      maxAgeSeconds: config.config.status?.maxAgeSeconds ?? 26 * 3600,
      logger: ctx.logger,
      signal: ctx.signal,
    });
    say(statusText(status));
    const page = join(tmpdir(), `pve-ftp-backup-demo-status-${process.pid}.html`);
    const last = reports.at(-1);
    await writeStatusPage(page, status, last ? lastRunOf(last) : undefined);
    say(`status page: ${page}  (open it in a browser; it stays after the demo)`);
    const { collectVerify } = await import('../verify/collect.js');
    say(`\n== pve-ftp-backup verify --deep --generation daily.0 -c ${world.configPath}`);
    const verified = await collectVerify({
      ftp: config.config.ftp,
      nodes: [],
      vmids: [],
      generation: 'daily.0',
      deep: true,
      logger: ctx.logger,
      signal: ctx.signal,
    });
    say(verifyText(verified));
    exitCode = Math.max(exitCode, verified.exitCode);
    if (options.json) {
      // workDir: where everything lived; removed when the demo ends.
      const doc = {
        version: 1,
        exitCode,
        workDir: world.tmp,
        runs: reports,
        nasTree: tree,
        status,
        statusPage: page,
        verify: verified,
      };
      ctx.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    } else {
      say('\nDone. Everything the demo created is being removed (the status page stays).');
    }
    return ctx.signal.aborted ? ExitCode.interrupted : exitCode;
  } finally {
    await world.close();
  }
};
