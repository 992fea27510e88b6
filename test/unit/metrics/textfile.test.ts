/**
 * The metrics textfile, checked through a real Prometheus text-format parser
 * (and line rules of our own: HELP and TYPE before every family's samples).
 */
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type GuestFromManifests,
  guestsFromManifests,
  type MetricsInput,
  type MetricsReportLike,
  MetricsWriteError,
  renderMetrics,
  writeMetricsTextfile,
} from '../../../src/metrics/index.js';

const NOW = new Date('2026-12-04T02:00:00Z');
const T = (iso: string) => Date.parse(iso) / 1000;

/** Tonight: 101 saved, 102 failed. */
const REPORT: MetricsReportLike = {
  startedAt: '2026-12-04T01:00:00.000Z',
  finishedAt: '2026-12-04T01:30:00.000Z',
  durationMs: 1_800_000,
  nodes: [
    {
      cluster: 'home',
      node: 'pve1',
      guests: [
        {
          vmid: 101,
          type: 'lxc',
          name: 'web',
          outcome: 'saved',
          archive: { name: 'vzdump-lxc-101-x.tar.zst', size: 5000, volid: 'v' },
          durationMs: 42_500,
          finishedAt: '2026-12-04T01:10:00.000Z',
        },
        { vmid: 102, type: 'lxc', name: 'db', outcome: 'failed' },
      ],
    },
  ],
};

/** The NAS before tonight: 101 and 102 saved last night, 300 (another node) saved, 400 never. */
const FROM_NAS: GuestFromManifests[] = [
  {
    cluster: 'home',
    node: 'pve1',
    vmid: 101,
    type: 'lxc',
    name: 'web',
    lastRunSaved: true,
    newestSaved: { time: '2026-12-03T01:10:00.000Z', archiveBytes: 4000, durationSeconds: 40 },
  },
  {
    cluster: 'home',
    node: 'pve1',
    vmid: 102,
    type: 'lxc',
    name: 'db',
    lastRunSaved: true,
    newestSaved: { time: '2026-12-03T01:20:00.000Z', archiveBytes: 9000, durationSeconds: 90 },
  },
  {
    cluster: 'home',
    node: 'pve2',
    vmid: 300,
    type: 'qemu',
    name: 'mail',
    lastRunSaved: true,
    newestSaved: { time: '2026-12-02T03:00:00.000Z', archiveBytes: 7777 },
  },
  { cluster: 'home', node: 'pve2', vmid: 400, type: 'lxc', name: 'new', lastRunSaved: false },
];

/** Parses with the real parser after checking the line rules the parser does not enforce. */
function parse(text: string): Map<string, ParsedFamily> {
  expect(text.endsWith('\n')).toBe(true);
  const declared = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const help = /^# HELP (\S+) /.exec(line);
    const type = /^# TYPE (\S+) gauge$/.exec(line);
    if (help) declared.add(`help:${help[1]}`);
    else if (type) declared.add(`type:${type[1]}`);
    else {
      const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1];
      expect(name, line).toBeDefined();
      expect(declared.has(`help:${name}`) && declared.has(`type:${name}`), line).toBe(true);
    }
  }
  const families = parsePrometheusTextFormat(text);
  return new Map(families.map((f) => [f.name, f]));
}

/** The value of `family` for the guest `vmid`, or undefined when it has no sample. */
function guestValue(m: Map<string, ParsedFamily>, family: string, vmid: number) {
  const f = m.get(family);
  const sample = f?.metrics.find((s) => s.labels?.vmid === String(vmid));
  return sample === undefined ? undefined : Number(sample.value);
}

function render(over: Partial<MetricsInput> = {}) {
  return parse(
    renderMetrics({
      report: REPORT,
      exitCode: 1,
      now: NOW,
      guestsFromManifests: FROM_NAS,
      ...over,
    }),
  );
}

describe('renderMetrics', () => {
  it('last run: time and exit code, HELP and TYPE gauge', () => {
    const m = render();
    const ts = m.get('pve_ftp_backup_last_run_timestamp_seconds');
    expect(ts?.type).toBe('GAUGE');
    expect(ts?.help).not.toBe('');
    expect(Number(ts?.metrics[0]?.value)).toBe(NOW.getTime() / 1000);
    expect(Number(m.get('pve_ftp_backup_last_run_exit_code')?.metrics[0]?.value)).toBe(1);
    expect(Number(m.get('pve_ftp_backup_last_run_duration_seconds')?.metrics[0]?.value)).toBe(1800);
  });

  it('a guest saved tonight takes tonight’s time, size and duration', () => {
    const m = render();
    expect(guestValue(m, 'pve_ftp_backup_guest_last_success_timestamp_seconds', 101)).toBe(
      T('2026-12-04T01:10:00Z'),
    );
    expect(guestValue(m, 'pve_ftp_backup_guest_last_archive_bytes', 101)).toBe(5000);
    expect(guestValue(m, 'pve_ftp_backup_guest_last_duration_seconds', 101)).toBe(42.5);
    expect(guestValue(m, 'pve_ftp_backup_guest_last_run_success', 101)).toBe(1);
    const labels = m
      .get('pve_ftp_backup_guest_last_run_success')
      ?.metrics.find((s) => s.labels?.vmid === '101')?.labels;
    expect(labels).toEqual({
      cluster: 'home',
      node: 'pve1',
      vmid: '101',
      name: 'web',
      type: 'lxc',
    });
  });

  it('a guest that failed tonight keeps its newest saved copy’s values, success 0', () => {
    const m = render();
    expect(guestValue(m, 'pve_ftp_backup_guest_last_success_timestamp_seconds', 102)).toBe(
      T('2026-12-03T01:20:00Z'),
    );
    expect(guestValue(m, 'pve_ftp_backup_guest_last_archive_bytes', 102)).toBe(9000);
    expect(guestValue(m, 'pve_ftp_backup_guest_last_duration_seconds', 102)).toBe(90);
    expect(guestValue(m, 'pve_ftp_backup_guest_last_run_success', 102)).toBe(0);
  });

  it('guests the run did not touch keep what the manifests say (a --vmid run wipes nothing)', () => {
    const m = render();
    expect(guestValue(m, 'pve_ftp_backup_guest_last_success_timestamp_seconds', 300)).toBe(
      T('2026-12-02T03:00:00Z'),
    );
    expect(guestValue(m, 'pve_ftp_backup_guest_last_archive_bytes', 300)).toBe(7777);
    // No duration recorded: no sample rather than a made-up 0.
    expect(guestValue(m, 'pve_ftp_backup_guest_last_duration_seconds', 300)).toBeUndefined();
    expect(guestValue(m, 'pve_ftp_backup_guest_last_run_success', 300)).toBe(1);
    // Never saved: no success time at all, and success 0.
    expect(
      guestValue(m, 'pve_ftp_backup_guest_last_success_timestamp_seconds', 400),
    ).toBeUndefined();
    expect(guestValue(m, 'pve_ftp_backup_guest_last_run_success', 400)).toBe(0);
  });

  it('a run that ended before it had a report still writes the last run and the NAS guests', () => {
    const m = render({ report: undefined, exitCode: 3 });
    expect(Number(m.get('pve_ftp_backup_last_run_exit_code')?.metrics[0]?.value)).toBe(3);
    expect(m.has('pve_ftp_backup_last_run_duration_seconds')).toBe(false);
    expect(guestValue(m, 'pve_ftp_backup_guest_last_run_success', 101)).toBe(1);
    expect(guestValue(m, 'pve_ftp_backup_guest_last_archive_bytes', 102)).toBe(9000);
  });

  it('escapes backslash, double quote and newline in label values', () => {
    const name = 'we"ird\\name\nline2';
    const m = render({
      report: undefined,
      guestsFromManifests: [
        { cluster: 'c\\1', node: 'n', vmid: 7, type: 'lxc', name, lastRunSaved: true },
      ],
    });
    const text = renderMetrics({
      exitCode: 0,
      now: NOW,
      guestsFromManifests: [
        { cluster: 'c\\1', node: 'n', vmid: 7, type: 'lxc', name, lastRunSaved: true },
      ],
    });
    expect(text).toContain('name="we\\"ird\\\\name\\nline2"');
    const labels = m.get('pve_ftp_backup_guest_last_run_success')?.metrics[0]?.labels;
    expect(labels?.name).toBe(name);
    expect(labels?.cluster).toBe('c\\1');
  });
});

describe('guestsFromManifests', () => {
  const gen = (
    finishedAt: string,
    guests: { vmid: number; status: 'saved' | 'failed'; durationMs?: number }[],
    files: { name: string; size: number }[],
  ) => ({
    manifest: {
      runId: finishedAt,
      node: 'pve1',
      cluster: '',
      startedAt: finishedAt,
      finishedAt,
      guests: guests.map((g) => ({ ...g, type: 'lxc', name: `g${g.vmid}` })),
    },
    files,
  });

  it('last run from the newest manifest, values from the newest saved copy', () => {
    const trees = [
      {
        cluster: 'home',
        node: 'pve1',
        generations: [
          // Listed out of order on purpose: time decides, not position.
          gen(
            '2026-12-02T01:00:00Z',
            [{ vmid: 101, status: 'saved', durationMs: 30_000 }],
            [{ name: 'vzdump-lxc-101-2026_12_02.tar.zst', size: 300 }],
          ),
          gen('2026-12-04T01:00:00Z', [{ vmid: 101, status: 'failed' }], []),
          gen(
            '2026-12-03T01:00:00Z',
            [
              { vmid: 101, status: 'saved', durationMs: 45_000 },
              { vmid: 102, status: 'failed' },
            ],
            [
              { name: 'vzdump-lxc-101-2026_12_03.tar.zst', size: 500 },
              { name: 'vzdump-lxc-101-2026_12_03.log', size: 90_000 },
              { name: 'vzdump-lxc-101-2026_12_03.tar.zst.sha256', size: 99_000 },
            ],
          ),
          { files: [] },
        ],
      },
    ];
    expect(guestsFromManifests(trees)).toEqual([
      {
        cluster: 'home',
        node: 'pve1',
        vmid: 101,
        type: 'lxc',
        name: 'g101',
        lastRunSaved: false,
        newestSaved: { time: '2026-12-03T01:00:00Z', archiveBytes: 500, durationSeconds: 45 },
      },
      { cluster: 'home', node: 'pve1', vmid: 102, type: 'lxc', name: 'g102', lastRunSaved: false },
    ]);
  });
});

describe('writeMetricsTextfile', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  const input: MetricsInput = {
    report: REPORT,
    exitCode: 1,
    now: NOW,
    guestsFromManifests: FROM_NAS,
  };

  it('replaces the file by rename: a reader of the old one sees it whole, no temp is left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pfb-metrics-'));
    dirs.push(dir);
    const path = join(dir, 'pve_ftp_backup.prom');
    await writeFile(path, '# old\n');
    const old = await open(path, 'r');
    try {
      await writeMetricsTextfile(path, input);
      expect(await old.readFile('utf8')).toBe('# old\n');
    } finally {
      await old.close();
    }
    expect(await readFile(path, 'utf8')).toBe(renderMetrics(input));
    expect(await readdir(dir)).toEqual(['pve_ftp_backup.prom']);
  });

  it('a directory that does not exist is an error naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pfb-metrics-'));
    dirs.push(dir);
    const path = join(dir, 'missing', 'x.prom');
    const err = await writeMetricsTextfile(path, input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricsWriteError);
    expect((err as Error).message).toBe(`cannot write metrics textfile ${path} (ENOENT)`);
    expect(await readdir(dir)).toEqual([]);
  });
});
