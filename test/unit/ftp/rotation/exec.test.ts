import { describe, expect, it } from 'vitest';
import { listGenerations } from '../../../../src/ftp/generations.js';
import { parseManifest } from '../../../../src/ftp/manifest.js';
import { finishNodeRun, prepareNodeTree } from '../../../../src/ftp/rotation/nodeTree.js';
import { silentLogger } from '../../../../src/log.js';
import { MemoryFs, MemoryFsError } from '../../../support/memoryFs.js';
import {
  archiveName,
  type GuestSpec,
  manifestFor,
  NODE_DIR,
  runIdOf,
  seedGeneration,
  seedUploads,
  topNames,
} from './trees.js';

const logger = silentLogger();
const T = `${NODE_DIR}/transfer`;

/** One night: heal, the hook uploads, the run finishes. */
async function night(fs: MemoryFs, runId: string, guests: GuestSpec[], keep: number) {
  await prepareNodeTree(fs, NODE_DIR, { keep, logger, runId: `prep-${runId}` });
  seedUploads(fs, T, runId, guests);
  return finishNodeRun(fs, NODE_DIR, manifestFor(runId, guests), { keep, rotate: true, logger });
}

const saved = (...v: number[]) => v.map((vmid) => ({ vmid, status: 'saved' as const }));
const failed = (...v: number[]) => v.map((vmid) => ({ vmid, status: 'failed' as const }));

describe('memoryFs mimics the real servers', () => {
  it('refuses a rename onto a non-empty dir, replaces an empty dir, overwrites a file', async () => {
    const fs = new MemoryFs();
    fs.seedFile('/a/x', '1');
    fs.seedFile('/b/y', '2');
    fs.seedDir('/empty');
    fs.seedFile('/f1', 'one');
    fs.seedFile('/f2', 'two');
    await expect(fs.rename('/a', '/b')).rejects.toMatchObject({ code: 451 });
    await fs.rename('/a', '/empty');
    expect(fs.snapshot()).toMatchObject({ 'empty/x': '1' });
    expect(fs.snapshot().a).toBeUndefined();
    await fs.rename('/f1', '/f2');
    expect(fs.snapshot().f2).toBe('one');
    await expect(fs.rename('/missing', '/z')).rejects.toBeInstanceOf(MemoryFsError);
  });
});

describe('finishNodeRun / prepareNodeTree on the in-memory NAS', () => {
  it('keep=3 over five nights keeps the three newest, renumbered', async () => {
    const fs = new MemoryFs();
    for (let n = 1; n <= 5; n++) {
      const r = await night(fs, `n${n}`, saved(101, 102), 3);
      expect(r.outcome).toBe('rotated');
    }
    expect(topNames(fs)).toEqual(['daily.0', 'daily.1', 'daily.2']);
    expect([0, 1, 2].map((i) => runIdOf(fs, `${NODE_DIR}/daily.${i}`))).toEqual(['n5', 'n4', 'n3']);
    expect(fs.snapshot(`${NODE_DIR}/daily.0`)[archiveName('n5', 101)]).toBe('n5/101');
  });

  it('a guest failing night after night keeps its last good backup', async () => {
    const fs = new MemoryFs();
    await night(fs, 'n1', saved(101, 102), 3);
    let last: Awaited<ReturnType<typeof night>> | undefined;
    for (let n = 2; n <= 9; n++)
      last = await night(fs, `n${n}`, [...saved(101), ...failed(102)], 3);
    expect(topNames(fs)).toEqual(['daily.0', 'daily.1', 'daily.2', 'daily.3']);
    expect(runIdOf(fs, `${NODE_DIR}/daily.3`)).toBe('n1');
    expect(fs.snapshot(`${NODE_DIR}/daily.3`)[archiveName('n1', 102)]).toBe('n1/102');
    expect(last?.protected).toEqual([
      expect.objectContaining({ name: 'daily.3', newName: 'daily.3', vmids: [102] }),
    ]);
    // Once 102 is saved again, the old copy falls away at the next rotation past keep.
    await night(fs, 'n10', saved(101, 102), 3);
    await night(fs, 'n11', saved(101, 102), 3);
    expect(topNames(fs)).toEqual(['daily.0', 'daily.1', 'daily.2']);
  });

  it('a run that saved nothing removes its transfer/ and leaves generations as they were', async () => {
    const fs = new MemoryFs();
    await night(fs, 'n1', saved(101), 2);
    await night(fs, 'n2', saved(101), 2);
    const before = fs.snapshot(NODE_DIR);
    const r = await night(fs, 'n3', failed(101), 2);
    expect(r.outcome).toBe('nothing-saved');
    expect(fs.snapshot(NODE_DIR)).toEqual(before);
  });

  it('rotate=false leaves transfer/ with its manifest; the next run adopts it as a full generation', async () => {
    const fs = new MemoryFs();
    await night(fs, 'n1', saved(101), 3);
    seedUploads(fs, T, 'n2', saved(101));
    const r = await finishNodeRun(fs, NODE_DIR, manifestFor('n2', saved(101)), {
      keep: 3,
      rotate: false,
      logger,
    });
    expect(r.outcome).toBe('not-rotated');
    expect(topNames(fs)).toEqual(['daily.0', 'transfer']);
    const p = await prepareNodeTree(fs, NODE_DIR, { keep: 3, logger });
    expect(p.repairs.join()).toMatch(/adopted/);
    expect(topNames(fs)).toEqual(['daily.0', 'daily.1']);
    const gens = await listGenerations(fs, NODE_DIR);
    expect(gens.map((g) => [g.name, g.manifest?.runId, g.incomplete])).toEqual([
      ['daily.0', 'n2', false],
      ['daily.1', 'n1', false],
    ]);
  });

  it('adopts a leftover transfer/ without manifest as an incomplete generation', async () => {
    const fs = new MemoryFs();
    await night(fs, 'n1', saved(101), 3);
    seedUploads(fs, T, 'crashed', saved(101));
    const r = await prepareNodeTree(fs, NODE_DIR, { keep: 3, logger, runId: 'n2' });
    expect(r.outcome).toBe('rotated');
    expect(topNames(fs)).toEqual(['daily.0', 'daily.1']);
    const m = parseManifest(fs.snapshot(NODE_DIR)['daily.0/manifest.json']!);
    // Nothing verified, so nothing saved; the guest whose archive is there is named (failed).
    expect(m).toMatchObject({
      incomplete: true,
      runId: 'n2',
      guests: [{ vmid: 101, status: 'failed' }],
    });
    expect(fs.snapshot(NODE_DIR)[`daily.0/${archiveName('crashed', 101)}`]).toBe('crashed/101');
    const [g0] = await listGenerations(fs, NODE_DIR);
    expect(g0).toMatchObject({ name: 'daily.0', index: 0, incomplete: true });
  });

  it('repairs gaps, leftover trash and an unreadable journal; foreign names untouched', async () => {
    const fs = new MemoryFs();
    seedGeneration(fs, `${NODE_DIR}/daily.2`, 'a', saved(101));
    seedGeneration(fs, `${NODE_DIR}/daily.5`, 'b', saved(101), 'bad');
    seedGeneration(fs, `${NODE_DIR}/.trash-daily.9-old`, 'z', saved(101));
    fs.seedFile(`${NODE_DIR}/.rotation.json`, '{"version":1,"runId":"x","ren');
    fs.seedFile(`${NODE_DIR}/..rotation.json.pfb-tmp`, '{"version":1');
    fs.seedFile(`${NODE_DIR}/.lock`, 'someone');
    fs.seedFile(`${NODE_DIR}/daily.01/keep-me`, 'mine');
    fs.seedFile(`${NODE_DIR}/README`, 'hello');
    const r = await prepareNodeTree(fs, NODE_DIR, { keep: 3, logger });
    expect(r.repairs).toHaveLength(3);
    expect(topNames(fs)).toEqual(['.lock', 'README', 'daily.0', 'daily.01', 'daily.1']);
    expect(runIdOf(fs, `${NODE_DIR}/daily.0`)).toBe('a');
    expect(fs.snapshot(NODE_DIR)['daily.1/manifest.json']).toMatch(/truncated/);
    expect(fs.snapshot(NODE_DIR)['daily.01/keep-me']).toBe('mine');
    expect(fs.snapshot(NODE_DIR)['.lock']).toBe('someone');
  });

  it('heals away our temporary names in the node dir and transfer/', async () => {
    const fs = new MemoryFs();
    seedGeneration(fs, `${NODE_DIR}/daily.0`, 'a', saved(101));
    seedGeneration(fs, `${NODE_DIR}/daily.1`, 'b', saved(101));
    // A manifest record cut short in transfer/ (then adopted), one of a generation (a leftover
    // recorded there: written aside in the node dir), and a NAS-clock probe of the lock.
    seedUploads(fs, T, 'c', saved(101));
    fs.seedFile(`${T}/.manifest.json.pfb-tmp`, '{"version":1');
    fs.seedFile(`${NODE_DIR}/.daily.1-manifest.json.pfb-tmp`, '{"ver');
    fs.seedFile(`${NODE_DIR}/.clock-1234.pfb-tmp`, '');
    fs.seedFile(`${NODE_DIR}/daily.1/notes.pfb-tmp.txt`, 'not ours: only the suffix counts');
    const r = await prepareNodeTree(fs, NODE_DIR, { keep: 3, logger, runId: 'n' });
    const paths = Object.keys(fs.snapshot(NODE_DIR));
    expect(paths.filter((p) => p.endsWith('.pfb-tmp'))).toEqual([]);
    expect(paths).toContain('daily.2/notes.pfb-tmp.txt');
    expect(r.repairs.filter((x) => x.startsWith('removed leftover'))).toHaveLength(3);
  });

  it('dry run reads only and reports what it would do', async () => {
    const fs = new MemoryFs();
    seedGeneration(fs, `${NODE_DIR}/daily.0`, 'a', saved(101));
    seedGeneration(fs, `${NODE_DIR}/daily.4`, 'b', saved(101));
    seedUploads(fs, T, 'c', saved(101));
    seedGeneration(fs, `${NODE_DIR}/.trash-daily.7-x`, 'z', saved(101));
    const before = fs.snapshot();
    const r = await prepareNodeTree(fs, NODE_DIR, { keep: 2, logger, dryRun: true, runId: 'd' });
    expect(fs.mutations).toBe(0);
    expect(fs.snapshot()).toEqual(before);
    expect(r.dryRun).toBe(true);
    // The leftover transfer/ saved nothing: it does not count toward keep=2, so daily.4 stays.
    expect(r.removed).toEqual([]);
    expect(r.renames).toContainEqual({ from: 'transfer', to: 'daily.0' });
    expect(r.renames).toContainEqual({ from: 'daily.4', to: 'daily.2' });
    expect(r.repairs.some((x) => x.includes('.trash-daily.7-x'))).toBe(true);
  });

  it('a routine keep=10 rotation with 20 files per generation costs a fixed, small number of calls', async () => {
    const fs = new MemoryFs();
    const guests = saved(...Array.from({ length: 10 }, (_, i) => 100 + i)); // 10 archives + 10 logs
    for (let i = 0; i < 10; i++) seedGeneration(fs, `${NODE_DIR}/daily.${i}`, `old${i}`, guests);
    seedUploads(fs, T, 'new', guests);
    for (const k of Object.keys(fs.calls)) delete fs.calls[k];
    await finishNodeRun(fs, NODE_DIR, manifestFor('new', guests), {
      keep: 10,
      rotate: true,
      logger,
    });
    // list node dir; read the 10 generations' manifests (whether each counts toward keep
    // depends on it: one that saved nothing does not); write manifest + journal; 11 renames;
    // drop journal; delete trash
    expect(fs.calls).toEqual({
      writeText: 2,
      list: 1,
      readText: 10,
      rename: 11,
      removeFile: 1,
      removeDir: 1,
    });
    expect(topNames(fs)).toHaveLength(10);
  });
});

describe('dry run of an interrupted rotation', () => {
  it('lists only the renames still to run and writes nothing', async () => {
    const fs = new MemoryFs();
    for (let i = 0; i < 3; i++) seedGeneration(fs, `${NODE_DIR}/daily.${i}`, `g${i}`, saved(101));
    seedUploads(fs, T, 'new', saved(101));
    fs.crashAfter(4); // manifest, journal, trash rename, daily.1 → daily.2
    await expect(
      finishNodeRun(fs, NODE_DIR, manifestFor('new', saved(101)), {
        keep: 3,
        rotate: true,
        logger,
      }),
    ).rejects.toThrow('simulated crash');
    fs.heal();
    const before = fs.mutations;
    const r = await prepareNodeTree(fs, NODE_DIR, { keep: 3, logger, dryRun: true });
    expect(fs.mutations).toBe(before);
    expect(r.renames).toEqual([
      { from: 'daily.0', to: 'daily.1' },
      { from: 'transfer', to: 'daily.0' },
    ]);
    expect(r.repairs[0]).toMatch(/would finish interrupted rotation of run new/);
  });
});

describe('healing a killed rotation', () => {
  it('finishes the journal and deletes its trash once', async () => {
    const fs = new MemoryFs();
    for (let i = 0; i < 3; i++) seedGeneration(fs, `${NODE_DIR}/daily.${i}`, `g${i}`, saved(101));
    seedUploads(fs, T, 'new', saved(101));
    fs.crashAfter(4); // manifest, journal, trash rename, daily.1 → daily.2
    await expect(
      finishNodeRun(fs, NODE_DIR, manifestFor('new', saved(101)), {
        keep: 3,
        rotate: true,
        logger,
      }),
    ).rejects.toThrow('simulated crash');
    fs.heal();
    for (const k of Object.keys(fs.calls)) delete fs.calls[k];
    const r = await prepareNodeTree(fs, NODE_DIR, { keep: 3, logger });
    expect(r.repairs).toEqual(['finished interrupted rotation of run new']);
    expect(r.renames).toEqual([
      { from: 'daily.0', to: 'daily.1' },
      { from: 'transfer', to: 'daily.0' },
    ]);
    expect(fs.calls.removeDir).toBe(1);
    expect(topNames(fs)).toEqual(['daily.0', 'daily.1', 'daily.2']);
    expect(runIdOf(fs, `${NODE_DIR}/daily.0`)).toBe('new');
  });
});
