/**
 * The simulator's hostile answers (scenario option `hostile`): extra raw rows
 * no PVE would send, appended verbatim, and a vzdump answer that is no UPID;
 * every request's raw (still encoded) path is recorded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type PveSimulator, startSimulator } from '../../../src/sim/index.js';
import { client } from './helpers.js';

const TOKEN = { token: 'root@pam!ci=sec' };
let sim: PveSimulator | undefined;
let c: ReturnType<typeof client> | undefined;
afterEach(async () => {
  await c?.close();
  await sim?.close();
  c = undefined;
  sim = undefined;
});

async function setup(hostile: NonNullable<Parameters<typeof startSimulator>[0]['hostile']>) {
  sim = await startSimulator({
    flavour: '9.1',
    tokens: [{ id: 'root@pam!ci', secret: 'sec' }],
    authFailureDelayMs: 0,
    backupDurationMs: 30,
    nodes: [
      {
        name: 'pve1',
        guests: [{ vmid: 101, type: 'lxc', name: 'web', status: 'running', archiveSize: 100 }],
      },
    ],
    hostile,
  });
  c = client(sim);
  return { sim, c };
}

describe('hostile scenario rows', () => {
  it('appends raw node, guest and volume rows; answers vzdump with the given text and starts nothing', async () => {
    const { sim, c } = await setup({
      nodeRows: [{ node: '../evil', status: 'online' }],
      guestRows: { pve1: [{ vmid: 7, name: 'web\n01\u001b[31m', status: 'running' }] },
      volumeRows: { pve1: [{ volid: 'ftp-staging:backup/../x', size: 1 }] },
      vzdumpAnswer: 'not-a-upid',
    });
    const nodes = (await c.call('GET', '/nodes', TOKEN)).json.data as { node: string }[];
    expect(nodes.map((n) => n.node)).toEqual(['pve1', '../evil']);
    const guests = (await c.call('GET', '/nodes/pve1/lxc', TOKEN)).json.data as {
      vmid: number;
      name: string;
    }[];
    expect(guests.map((g) => [g.vmid, g.name])).toEqual([
      [101, 'web'],
      [7, 'web\n01\u001b[31m'],
    ]);
    const content = await c.call('GET', '/nodes/pve1/storage/ftp-staging/content', {
      ...TOKEN,
      query: { content: 'backup' },
    });
    expect(content.json.data).toEqual([{ volid: 'ftp-staging:backup/../x', size: 1 }]);
    const post = await c.call('POST', '/nodes/pve1/vzdump', {
      ...TOKEN,
      form: { vmid: '101', storage: 'ftp-staging' },
    });
    expect(post.json.data).toBe('not-a-upid');
    expect(sim.tasks()).toEqual([]);
  });

  it('records the raw path beside the decoded one', async () => {
    const { sim, c } = await setup({});
    await c.call(
      'GET',
      '/nodes/pve1/tasks/UPID%3Apve1%3A00000001%3A00000001%3A00000001%3Avzdump%3A101%3Aroot%40pam%3A/status',
      TOKEN,
    );
    const r = sim.requests.at(-1);
    expect(r?.path).toBe(
      '/nodes/pve1/tasks/UPID:pve1:00000001:00000001:00000001:vzdump:101:root@pam:/status',
    );
    expect(r?.rawPath).toBe(
      '/nodes/pve1/tasks/UPID%3Apve1%3A00000001%3A00000001%3A00000001%3Avzdump%3A101%3Aroot%40pam%3A/status',
    );
  });
});
