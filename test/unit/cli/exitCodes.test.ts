/** The exit-code rule of docs/contract.md#exit-codes, owned by src/errors.ts: how a command ended, and what a thrown value means. */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ExitCode,
  exitCodeFor,
  InterruptedError,
  outcomeExitCode,
  PreflightError,
} from '../../../src/errors.js';
import { PveAuthError, PveTlsError } from '../../../src/pveApi/errors.js';

describe('outcomeExitCode', () => {
  it.each([
    [{ problems: 0, didWork: true }, 0],
    [{ problems: 0, didWork: false }, 0],
    [{ problems: 2, didWork: true }, 1],
    [{ problems: 1, didWork: false }, 3],
    [{ problems: 0, didWork: true, interrupted: true }, 130],
    [{ problems: 3, didWork: false, interrupted: true }, 130],
  ])('%j → %i', (outcome, code) => {
    expect(outcomeExitCode(outcome)).toBe(code);
  });
});

describe('exitCodeFor', () => {
  const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });

  it('AppErrors carry their code', () => {
    expect(exitCodeFor(new ConfigError('x'), false)).toBe(ExitCode.usage);
    expect(exitCodeFor(new PreflightError('x'), false)).toBe(ExitCode.nothingDone);
    expect(exitCodeFor(new InterruptedError(), false)).toBe(ExitCode.interrupted);
  });

  it("the PVE client's auth and TLS errors mean nothing could be done", () => {
    const auth = new PveAuthError({
      cluster: 'home',
      method: 'GET',
      path: '/version',
      status: 401,
      principal: 'backup@pve!nightly',
    });
    expect(exitCodeFor(auth, false)).toBe(3);
    expect(exitCodeFor(new PveTlsError('home', 'PVE_TLS_FINGERPRINT_MISMATCH', 'pin'), false)).toBe(
      3,
    );
  });

  it('an AbortError is an interruption only after a signal; anything else is a bug', () => {
    expect(exitCodeFor(abort, true)).toBe(130);
    expect(exitCodeFor(abort, false)).toBeUndefined();
    expect(exitCodeFor(new TypeError('x is undefined'), true)).toBeUndefined();
    expect(exitCodeFor('a string', false)).toBeUndefined();
  });
});
