import { describe, expect, it } from 'vitest';
import {
  generationIndex,
  generationName,
  parseGeneration,
} from '../../../../src/ftp/rotation/names.js';
import { shouldPromote } from '../../../../src/ftp/rotation/tiers.js';

describe('tier names', () => {
  it('round-trips weekly.N and monthly.N', () => {
    expect(parseGeneration(generationName('weekly', 0))).toEqual({ tier: 'weekly', index: 0 });
    expect(parseGeneration(generationName('monthly', 11))).toEqual({ tier: 'monthly', index: 11 });
  });

  it('treats look-alikes as foreign, like daily.N', () => {
    for (const name of [
      'weekly.01',
      'weekly.',
      'monthly.-1',
      'Weekly.0',
      'weekly.0x',
      'yearly.0',
    ]) {
      expect(parseGeneration(name), name).toBeUndefined();
    }
    // The daily parser must not claim tier names either (they would be rotated as dailies).
    expect(generationIndex('weekly.0')).toBeUndefined();
  });

  it('refuses a negative or fractional index, naming it', () => {
    expect(() => generationName('weekly', -1)).toThrow(/-1/);
    expect(() => generationName('monthly', 1.5)).toThrow(/1\.5/);
  });
});

describe('shouldPromote', () => {
  const day = (d: number) => new Date(Date.UTC(2026, 0, 1 + d, 2, 0, 0)).toISOString();

  it('fills an empty tier with the first candidate', () => {
    expect(shouldPromote('weekly', day(0), undefined)).toBe(true);
  });

  it('weekly needs 7 days to the newest weekly, monthly 28 to the newest monthly', () => {
    expect(shouldPromote('weekly', day(7), day(0))).toBe(true);
    expect(shouldPromote('weekly', day(6), day(0))).toBe(false);
    expect(shouldPromote('monthly', day(28), day(0))).toBe(true);
    expect(shouldPromote('monthly', day(27), day(0))).toBe(false);
  });

  it('counts the gap in whole days, so a run that starts a little earlier than last week still makes it', () => {
    const at = (d: number, hours: number) =>
      new Date(Date.parse(day(d)) + hours * 3_600_000).toISOString();
    expect(shouldPromote('weekly', at(7, -0.1), day(0))).toBe(true); // 6 min early
    expect(shouldPromote('weekly', at(7, -11.9), day(0))).toBe(true);
    expect(shouldPromote('weekly', at(7, -12.1), day(0))).toBe(false); // 6.5 days minus a bit
    expect(shouldPromote('monthly', at(28, -11.9), day(0))).toBe(true);
    expect(shouldPromote('monthly', at(28, -12.1), day(0))).toBe(false);
  });

  it('a clock stepped backwards never promotes', () => {
    expect(shouldPromote('weekly', day(0), day(10))).toBe(false);
  });

  it('an unreadable time never promotes', () => {
    expect(shouldPromote('weekly', '', undefined)).toBe(false);
    expect(shouldPromote('weekly', undefined, undefined)).toBe(false);
    expect(shouldPromote('weekly', 'yesterday', day(0))).toBe(false);
    expect(shouldPromote('weekly', day(30), 'garbage')).toBe(false);
  });
});
