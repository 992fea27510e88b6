/** The command table: --vmid limits, and which commands are print-only (no logger is built for them). */
import { describe, expect, it } from 'vitest';
import { parser, type Selected, vmids } from '../../../src/commandTable.js';
import { ConfigError } from '../../../src/errors.js';

async function select(argv: string[]): Promise<Selected | undefined> {
  let selected: Selected | undefined;
  await parser(argv, (s) => {
    selected = s;
  }).parseAsync();
  return selected;
}

describe('vmids', () => {
  it('accepts the guest ids PVE accepts, repeated or single', () => {
    expect(vmids(undefined)).toEqual([]);
    expect(vmids('101')).toEqual([101]);
    expect(vmids(['100', '999999999'])).toEqual([100, 999_999_999]);
  });

  it.each(['99', '1000000000', 'abc', '1e3', '-101', '10.5', ''])(
    '%j is a ConfigError quoting it',
    (bad) => {
      expect(() => vmids([bad])).toThrow(ConfigError);
      expect(() => vmids([bad])).toThrow(`--vmid ${bad}: expected a guest id`);
    },
  );
});

describe('command selection', () => {
  it.each([
    [['hook'], true],
    [['config', 'schema'], true],
    [['hook', '-c', 'x.yaml', '--config', '--node', 'pve1'], false],
    [['run'], false],
    [['list'], false],
    [['generations'], false],
    [['demo'], false],
  ])('%j: print-only %s', async (argv, prints) => {
    const s = await select(argv);
    expect(s?.prints).toBe(prints);
  });

  it('only hook --config prints secrets (its stdout is hook.conf, unredacted)', async () => {
    const conf = await select(['hook', '--config', '--node', 'pve1']);
    expect(conf?.prints === false && conf.printsSecrets).toBe(true);
    const run = await select(['run']);
    expect(run?.prints === false && run.printsSecrets).toBe(false);
  });

  it('a bad --vmid fails the parse before any command is selected', async () => {
    await expect(select(['run', '--vmid', '42'])).rejects.toThrow(/--vmid 42: expected a guest id/);
  });
});
