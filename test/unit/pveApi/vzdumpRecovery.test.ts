import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { PveApiError } from '../../../src/pveApi/errors.js';
import {
  type FoundTask,
  findLostVzdump,
  isLostAnswer,
  type RecoveryDeps,
} from '../../../src/pveApi/vzdumpRecovery.js';

const ME = 'backup@pve!nightly';
/** Our POST time: 2021-10-27T19:12:25Z = UPID starttime 6179A779 below. */
const NOW_MS = 0x6179a779 * 1000;
const upid = (id: string, user: string, pid = '00001234', start = '6179A779') =>
  `UPID:pve1:${pid}:00005678:${start}:vzdump:${id}:${user}:`;

function deps(rounds: FoundTask[][]): RecoveryDeps & { calls: number } {
  const d = {
    calls: 0,
    cluster: 'c',
    principal: ME,
    policy: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    logger: silentLogger(),
    postedAt: NOW_MS,
    vzdumpTasks: async () => rounds[Math.min(d.calls++, rounds.length - 1)] ?? [],
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
      /2 vzdump tasks could be ours/,
    );
  });

  it('takes a task of ours that already finished when it started after our POST (minus the clock slack)', async () => {
    const mine = upid('101', ME, '00000002', (0x6179a779 - 60).toString(16).toUpperCase());
    const d = deps([[{ upid: mine, id: '101', finished: true }]]);
    await expect(findLostVzdump(d, 'pve1', 101, lost)).resolves.toBe(mine);
    expect(d.calls).toBe(1);
  });

  it('ignores a finished task of ours that started long before the POST (another run)', async () => {
    const old = upid('101', ME, '00000002', (0x6179a779 - 3600).toString(16).toUpperCase());
    const d = deps([[{ upid: old, id: '101', finished: true }]]);
    await expect(findLostVzdump(d, 'pve1', 101, lost)).rejects.toThrow(/not re-sent/);
  });

  it('fails clearly after the bounded rounds when nothing is found, keeping the cause', async () => {
    const d = deps([[{ upid: upid('101', 'root@pam'), id: '101' }]]);
    const err = (await findLostVzdump(d, 'pve1', 101, lost).catch(
      (e: unknown) => e,
    )) as PveApiError;
    expect(err.message).toMatch(
      /no vzdump task for it is running or finished on node pve1; not re-sent/,
    );
    expect(err.cause).toBe(lost);
    expect(err.code).toBe('UND_ERR_SOCKET');
    expect(d.calls).toBe(3);
  });
});
