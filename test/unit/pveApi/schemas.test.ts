import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  BackupVolumes,
  Bool,
  ErrorBody,
  Guests,
  Nodes,
  Num,
  Resources,
  TaskLog,
  TaskStatus,
  Ticket,
  Version,
  VzdumpAnswer,
} from '../../../src/pveApi/schemas.js';
import { fixtureJson, fixtureNames } from './fixtures.js';

type Sample = { data?: unknown; body?: unknown; _status_line?: string };

function dataOf(sample: unknown): unknown {
  return (sample as Sample).data;
}

function expectOk<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(JSON.stringify(r.error.issues));
  return r.data;
}

describe('schemas accept every fixture sample', () => {
  it('covers every JSON fixture file (a new sample must get a case here)', () => {
    expect(fixtureNames('.json')).toEqual([
      'access-ticket_response_pve2-wiki.json',
      'guest-lists_shapes_by-version.json',
      'storage-content-backup_pve3-5_shape.json',
      'storage-content-backup_pve7plus_from-pve-storage-testdata.json',
      'task-log_pages_from-real-log.json',
      'task-status_examples.json',
      'upid-examples_pve-common-test.json',
      'vzdump-post_responses.json',
    ]);
  });

  it('access ticket', () => {
    const t = expectOk(Ticket, dataOf(fixtureJson('access-ticket_response_pve2-wiki.json')));
    expect(t.username).toBe('root@pam');
    expect(t.CSRFPreventionToken).toMatch(/^4EEC61E2:/);
  });

  it('guest lists, version, nodes and resources of every version', () => {
    const all = fixtureJson('guest-lists_shapes_by-version.json') as Record<string, Sample>;
    const get = (prefix: string) => {
      const key = Object.keys(all).find((k) => k.startsWith(prefix));
      if (!key) throw new Error(`no sample ${prefix}`);
      return all[key] as Sample;
    };
    expect(expectOk(Version, get('GET /version (PVE 3.x').data)).toMatchObject({
      version: '3.4',
      release: '16',
    });
    expect(expectOk(Version, get('GET /version (PVE >= 6.0').data).version).toBe('8.2.4');
    expect(expectOk(Nodes, get('GET /nodes').data)).toEqual([
      { node: 'pve1', status: 'online' },
      { node: 'pve2', status: 'offline' },
    ]);
    const res = expectOk(Resources, get('GET /cluster/resources').data);
    expect(res.map((r) => [r.vmid, r.type, r.template])).toEqual([
      [101, 'lxc', false],
      [100, 'qemu', false],
      [102, 'lxc', undefined],
      [103, 'openvz', undefined],
    ]);
    const lxc = expectOk(Guests, get('GET /nodes/{node}/lxc (PVE >= 4)').data);
    expect(lxc[1]).toMatchObject({ vmid: 104, template: true, lock: 'backup', status: 'stopped' });
    expect(lxc[0]?.lock).toBeUndefined();
    // vmid as a JSON string (LXC before pve-container 5.0.10, every OpenVZ list) becomes a number
    expect(expectOk(Guests, get('GET /nodes/{node}/lxc (PVE 4.x').data)[0]?.vmid).toBe(101);
    const ovz = expectOk(Guests, get('GET /nodes/{node}/openvz').data);
    expect(ovz.map((g) => [g.vmid, g.status])).toEqual([
      [103, 'running'],
      [105, 'mounted'],
    ]);
    expect(expectOk(Guests, get('GET /nodes/{node}/qemu').data)[0]).toMatchObject({
      vmid: 100,
      template: false,
    });
    // the 501 answer carries data:null, which no list schema accepts
    expect(
      Guests.safeParse((get('GET /nodes/{node}/lxc on PVE 3.x').body as Sample).data).success,
    ).toBe(false);
  });

  it('storage content of PVE 3-5 and 7+', () => {
    const old = expectOk(
      BackupVolumes,
      dataOf(fixtureJson('storage-content-backup_pve3-5_shape.json')),
    );
    expect(old[0]).toMatchObject({ size: 33512905791, format: 'tar.lzo' });
    expect(old[0]?.vmid).toBeUndefined();
    const cur = expectOk(
      BackupVolumes,
      dataOf(fixtureJson('storage-content-backup_pve7plus_from-pve-storage-testdata.json')),
    );
    expect(cur).toHaveLength(6);
    expect(cur[5]).toMatchObject({ vmid: 16110, ctime: 1585602835, format: 'vma.zst' });
  });

  it('task log pages, including the empty-log placeholder', () => {
    const pages = fixtureJson('task-log_pages_from-real-log.json') as Record<
      string,
      Sample & { total?: number }
    >;
    for (const page of Object.values(pages)) {
      const lines = expectOk(TaskLog, page.data);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.every((l, i) => i === 0 || l.n === (lines[i - 1]?.n ?? 0) + 1)).toBe(true);
    }
    expect(expectOk(TaskLog, pages['GET .../log?start=42&limit=50']?.data).at(-1)).toEqual({
      n: 46,
      t: 'TASK OK',
    });
  });

  it('task status examples; the unknown-UPID 400 body yields its parameter error', () => {
    const all = fixtureJson('task-status_examples.json') as Record<string, Sample>;
    for (const [key, sample] of Object.entries(all)) {
      if (sample._status_line) {
        expect(expectOk(ErrorBody, sample.body).errors).toEqual({ upid: 'no such task' });
        continue;
      }
      const s = expectOk(TaskStatus, sample.data);
      expect(s.status, key).toMatch(/^(running|stopped)$/);
    }
    const warned = all['stopped_with_warnings_pve_ge_6.4']?.data;
    expect(expectOk(TaskStatus, warned).exitstatus).toBe('WARNINGS: 1');
  });

  it('vzdump POST answers: UPID, "OK" and parameter errors with and without message', () => {
    const all = fixtureJson('vzdump-post_responses.json') as Record<
      string,
      Sample & Record<string, unknown>
    >;
    expect(expectOk(VzdumpAnswer, all.started?.data)).toMatch(/^UPID:/);
    expect(expectOk(VzdumpAnswer, all.nothing_local_or_stop_only?.data)).toBe('OK');
    const rejected = all.root_only_param_rejected as Record<string, unknown>;
    expect(expectOk(ErrorBody, rejected.body).errors).toEqual({
      script: 'Only root may set this option.',
    });
    const newer = rejected['body_http_server_ge_5.2.0'];
    expect(expectOk(ErrorBody, newer).message).toBe('Parameter verification failed.\n');
  });
});

describe('quirk coercions', () => {
  it('numbers as numbers or numeric strings, nothing else', () => {
    expect(Num.parse(7)).toBe(7);
    expect(Num.parse('101')).toBe(101);
    expect(Num.parse('0.5')).toBe(0.5);
    for (const bad of ['', 'abc', '1e3x', null, true])
      expect(Num.safeParse(bad).success).toBe(false);
  });

  it('booleans as 0/1/"0"/"1"/true/false, nothing else', () => {
    const cases: [unknown, boolean][] = [
      [0, false],
      [1, true],
      ['0', false],
      ['1', true],
      [true, true],
      [false, false],
    ];
    for (const [input, out] of cases) expect(Bool.parse(input)).toBe(out);
    for (const bad of [2, 'yes', '', null]) expect(Bool.safeParse(bad).success).toBe(false);
  });

  it('GET /nodes before PVE 5.1-37 has no status: online is the row with uptime', () => {
    // PM stable-3/stable-4 API2Tools extract_node_stats: uptime/cpu/mem only for an online node.
    expect(
      Nodes.parse([
        { id: 'node/a', node: 'a', type: 'node', uptime: 86400, cpu: 0.01, mem: 1, maxcpu: 8 },
        { id: 'node/b', node: 'b', type: 'node', uptime: '0', level: '' },
        { id: 'node/c', node: 'c', type: 'node', level: '', maxcpu: 8 },
        { node: 'd' },
      ]),
    ).toEqual([
      { node: 'a', status: 'online' },
      { node: 'b', status: 'online' },
      { node: 'c', status: 'unknown' },
      { node: 'd', status: 'unknown' },
    ]);
  });

  it('unknown node states become unknown instead of failing the listing', () => {
    expect(Nodes.parse([{ node: 'a', status: 'maintenance' }])).toEqual([
      { node: 'a', status: 'unknown' },
    ]);
  });
});
