import { describe, expect, it } from 'vitest';
import {
  formatDurationSetting,
  parseDurationMs as parseDuration,
} from '../../../src/config/duration.js';
import { parseConfigText } from '../../../src/config/index.js';
import { ENV, VALID } from './helpers.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['10m', 600_000],
    ['26h', 93_600_000],
    ['7d', 604_800_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseDuration(formatDurationSetting(ms))).toBe(ms);
  });

  it.each(['', '10', 'm', '1.5m', '-1m', '10 m x', '10y', '10M'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('config lockLease', () => {
  it('defaults to 10 minutes', async () => {
    const { config } = await parseConfigText(VALID, '/c.yaml', ENV);
    expect(config.lockLeaseMs).toBe(600_000);
  });

  it('reads a duration', async () => {
    const { config } = await parseConfigText(`${VALID}lockLease: 90s\n`, '/c.yaml', ENV);
    expect(config.lockLeaseMs).toBe(90_000);
  });

  it.each([
    ['lockLease: 10\n', 'expected a duration'],
    ['lockLease: soon\n', 'expected a duration'],
    ['lockLease: 5s\n', 'at least 10s'],
    ['lockLease: 8d\n', 'at most 7d'],
  ])('%j is an error naming lockLease', async (extra, expected) => {
    const error = await parseConfigText(VALID + extra, '/c.yaml', ENV).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('lockLease: ');
    expect((error as Error).message).toContain(expected);
  });
});
