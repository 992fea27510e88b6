import { describe, expect, it } from 'vitest';
import { isUpid, parseUpid } from '../../../src/pveApi/upid.js';
import { fixtureJson } from './fixtures.js';

type UpidSample = { upid: string; decoded?: Record<string, unknown>; must_fail?: boolean };
const samples = fixtureJson('upid-examples_pve-common-test.json') as UpidSample[];

describe('parseUpid', () => {
  it('has both valid and must_fail samples to check', () => {
    expect(samples.some((s) => s.must_fail)).toBe(true);
    expect(samples.filter((s) => s.decoded).length).toBeGreaterThanOrEqual(4);
  });

  for (const sample of samples) {
    it(`${sample.must_fail ? 'rejects' : 'decodes'} ${sample.upid}`, () => {
      if (sample.must_fail) {
        expect(parseUpid(sample.upid)).toBeUndefined();
        expect(isUpid(sample.upid)).toBe(false);
      } else {
        expect(parseUpid(sample.upid)).toEqual(sample.decoded);
      }
    });
  }

  it('rejects a UPID without its trailing colon, with a slash, or with a bad node name', () => {
    const good = 'UPID:pve:00007EA2:000BC0FC:6179A779:vzdump:102:root@pam:';
    expect(isUpid(good)).toBe(true);
    expect(isUpid(good.slice(0, -1))).toBe(false);
    expect(isUpid(good.replace('vzdump', 'vz/dump'))).toBe(false);
    expect(isUpid(good.replace(':pve:', ':-pve:'))).toBe(false);
    expect(isUpid(good.replace('00007EA2', '7EA2'))).toBe(false);
    expect(isUpid('OK')).toBe(false);
  });

  it('accepts lower-case hex and an empty id (vzdump before PVE 5.3-8)', () => {
    expect(parseUpid('UPID:n1:00007ea2:000bc0fc:6179a779:vzdump::root@pam:')).toMatchObject({
      id: '',
      pid: 0x7ea2,
      starttime: 0x6179a779,
    });
  });
});
