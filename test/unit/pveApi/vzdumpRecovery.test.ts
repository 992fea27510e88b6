import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { PveApiError } from '../../../src/pveApi/errors.js';
import {
  type ActiveTask,
  findLostVzdump,
  isLostAnswer,
  type RecoveryDeps,
} from '../../../src/pveApi/vzdumpRecovery.js';

const ME = 'backup@pve!nightly';
const upid = (id: string, user: string, pid = '00001234') =>
  `UPID:pve1:${pid}:00005678:6179A779:vzdump:${id}:${user}:`;

function deps(rounds: ActiveTask[][]): RecoveryDeps & { calls: number } {
  const d = {
    calls: 0,
    cluster: 'c',
    principal: ME,
    policy: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    logger: silentLogger(),
    activeVzdumps: async () => rounds[Math.min(d.calls++, rounds.length - 1)] ?? [],
  };
  return d;
}

const lost = new PveApiError({
  cluster: 'c',
  method: 'POST',
  path: '/nodes/pve1/vzdump',
  code: 'UND_ERR_SOCKET',
});

describe('isLostAnswer', () => {
  it('is true only when the POST may have been executed', () => {
    expect(isLostAnswer(lost)).toBe(true);
    expect(
      isLostAnswer(new PveApiError({ cluster: 'c', method: 'POST', path: '/x', status: 596 })),
    ).toBe(true);
    expect(
      isLostAnswer(new PveApiError({ cluster: 'c', method: 'POST', path: '/x', status: 500 })),
    ).toBe(false);
    expect(
      isLostAnswer(
        new PveApiError({ cluster: 'c', method: 'POST', path: '/x', code: 'ECONNREFUSED' }),
      ),
    ).toBe(false);
    expect(
      isLostAnswer(
        new PveApiError({
          cluster: 'c',
          method: 'POST',
          path: '/access/ticket',
          code: 'UND_ERR_SOCKET',
        }),
      ),
    ).toBe(false);
    expect(isLostAnswer(new Error('x'))).toBe(false);
  });

  it('follows AnyEvent::HTTP pseudo-codes: 596/597 came after the request went through, 595/599 before', () => {
    const status = (s: number) =>
      isLostAnswer(new PveApiError({ cluster: 'c', method: 'POST', path: '/x', status: s }));
    // 597 = the forwarded answer's body failed: pvedaemon had already run the POST.
    expect(status(597)).toBe(true);
    expect(status(596)).toBe(true);
    expect(status(595)).toBe(false);
    expect(status(599)).toBe(false);
  });
});

describe('findLostVzdump', () => {
  it('takes our task with the vmid as id, ignoring another user’s job of the same guest', async () => {
    const mine = upid('101', ME, '00000002');
    const d = deps([
      [
        { upid: upid('101', 'root@pam'), id: '101' },
        { upid: mine, id: '101' },
      ],
    ]);
    await expect(findLostVzdump(d, 'pve1', 101, lost)).resolves.toBe(mine);
  });

  it('accepts a single empty-id task of ours (PVE < 5.3-8)', async () => {
    const mine = upid('', ME);
    await expect(findLostVzdump(deps([[{ upid: mine, id: '' }]]), 'pve1', 101, lost)).resolves.toBe(
      mine,
    );
  });

  it('polls a few rounds while the worker is still being forked', async () => {
    const mine = upid('101', ME);
    const d = deps([[], [{ upid: mine, id: '101' }]]);
    await expect(findLostVzdump(d, 'pve1', 101, lost)).resolves.toBe(mine);
    expect(d.calls).toBe(2);
  });

  it('refuses to guess between two candidates', async () => {
    const d = deps([
      [
        { upid: upid('', ME, '00000001'), id: '' },
        { upid: upid('', ME, '00000002'), id: '' },
      ],
    ]);
    await expect(findLostVzdump(d, 'pve1', 101, lost)).rejects.toThrow(
      /2 running vzdump tasks could be ours/,
    );
  });

  it('fails clearly after the bounded rounds when nothing is found, keeping the cause', async () => {
    const d = deps([[{ upid: upid('101', 'root@pam'), id: '101' }]]);
    const err = (await findLostVzdump(d, 'pve1', 101, lost).catch(
      (e: unknown) => e,
    )) as PveApiError;
    expect(err.message).toMatch(/no vzdump task for it is running on node pve1; not re-sent/);
    expect(err.cause).toBe(lost);
    expect(err.code).toBe('UND_ERR_SOCKET');
    expect(d.calls).toBe(3);
  });
});
