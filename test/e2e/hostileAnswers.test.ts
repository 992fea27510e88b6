/**
 * Hostile answers from the API through the BUILT CLI (issue #8 §4): a node
 * named `../evil` and a guest with an out-of-range vmid are reported and
 * skipped while the others are saved; a guest name with control characters
 * reaches the logs, the reports and the manifest escaped, one line per record.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walkTree } from '../../src/demo/tree.js';
import type { RunReport } from '../../src/orchestrator/report.js';
import { hasControlChars } from '../../src/pveApi/names.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import { DEMO_FTP_DIR, nasLayout, startWorld, type World } from './support/world.js';

const HOSTILE_NAME = 'web\n01\u001b[31m';
const ESCAPED_NAME = 'web\\x0a01\\x1b[31m';
let world: World;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    backupDurationMs: 50,
    nodes: [
      {
        name: 'pve1',
        guests: [
          { vmid: 101, type: 'lxc', name: HOSTILE_NAME, status: 'running', archiveSize: 4096 },
          { vmid: 102, type: 'lxc', name: 'db', status: 'running', archiveSize: 2048 },
        ],
      },
      {
        name: 'pve2',
        guests: [{ vmid: 201, type: 'lxc', name: 'mail', status: 'running', archiveSize: 1024 }],
      },
    ],
    hostile: {
      nodeRows: [{ node: '../evil', status: 'online' }],
      guestRows: { pve2: [{ vmid: 7, name: 'tiny', status: 'running' }] },
    },
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

/** No line of the text carries a control character (so every record stays one line). */
function expectOneLinePerRecord(text: string) {
  for (const line of text.split('\n'))
    expect(hasControlChars(line), JSON.stringify(line)).toBe(false);
}

describe('hostile answers from the API', () => {
  it('reports and skips the node ../evil and the vmid 7, saves the others, escapes the control characters', async () => {
    const r = await runCli(['run', '-c', world.configPath, '--json'], {
      env: world.env,
      cwd: world.tmp,
    });
    // A node that could not be done counts like failed guests: exit 1 while others were saved.
    expect(r.code, r.stderr).toBe(1);
    const report = jsonReport<RunReport>(r);
    const evil = report.nodes.find((n) => n.node === '../evil');
    expect(evil?.status).toBe('offline');
    expect(evil?.reason).toMatch(/'\.\.\/evil', which is not a valid PVE node name; skipped/);
    expect(evil?.guests).toEqual([]);
    const byNode = Object.fromEntries(
      report.nodes.map((n) => [n.node, n.guests.map((g) => [g.vmid, g.outcome, g.name])]),
    );
    expect(byNode.pve1).toEqual([
      [101, 'saved', ESCAPED_NAME],
      [102, 'saved', 'db'],
    ]);
    expect(byNode.pve2).toEqual([[201, 'saved', 'mail']]);
    const pve2 = report.nodes.find((n) => n.node === 'pve2');
    expect(pve2?.skipped).toEqual([
      expect.objectContaining({ vmid: 7, reason: expect.stringMatching(/not a valid PVE vmid/) }),
    ]);

    // Nothing on the NAS for it, nothing outside the configured directory.
    expect(Object.keys(await nasLayout(world)).sort()).toEqual(['pve1', 'pve2']);
    const everything = (await walkTree(world.ftpRoot)).map((e) => e.path);
    expect(everything.filter((p) => /evil/.test(p))).toEqual([]);
    // No request named it or climbed a level.
    for (const req of world.sim.requests) {
      expect(req.rawPath.split('/'), req.rawPath).not.toContain('..');
      expect(req.path).not.toMatch(/evil/);
    }

    // The report, the logs and the manifest: one line per record, the name escaped, valid JSON.
    expectOneLinePerRecord(r.stdout);
    expectOneLinePerRecord(r.stderr);
    const manifest = JSON.parse(
      await readFile(join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', 'daily.0', 'manifest.json'), 'utf8'),
    ) as { guests: { vmid: number; name: string }[] };
    expect(manifest.guests.find((g) => g.vmid === 101)?.name).toBe(ESCAPED_NAME);
  }, 90_000);

  it('the human report names the node escaped and stays one line per record', async () => {
    const r = await runCli(['run', '-c', world.configPath], { env: world.env, cwd: world.tmp });
    expect(r.code, r.stderr).toBe(1);
    expectOneLinePerRecord(r.stdout);
    expectOneLinePerRecord(r.stderr);
    expect(`${r.stdout}${r.stderr}`).toContain('../evil');
    expect(`${r.stdout}${r.stderr}`).toContain(ESCAPED_NAME);
  }, 90_000);
});
