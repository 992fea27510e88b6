import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hookScriptPath } from '../../../src/hook/index.js';

// shellcheck is installed by .ci/run; on a fresh machine after `npm ci` alone
// it may be missing. Then this runs only when CI is set, and fails loudly
// there, so CI can never pass without the check having run.
const found = spawnSync('shellcheck', ['--version']).status === 0;
const required = Boolean(process.env.CI);

describe.runIf(found || required)('hook script lint', () => {
  it('is shellcheck-clean as POSIX sh', () => {
    expect(found, 'shellcheck is not installed (apt-get install shellcheck)').toBe(true);
    const result = spawnSync('shellcheck', ['-s', 'sh', '-S', 'style', hookScriptPath()], {
      encoding: 'utf8',
    });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
