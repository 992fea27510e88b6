/**
 * src/undiciParts.ts requires undici's files one by one instead of its index
 * (which loads fetch, WebSocket, caches, mocks …). This checks, in a fresh
 * process on the built code, that the tool's HTTP modules leave the index
 * unloaded, that the parts can send a request, and that they are the very
 * objects undici's index exports: a new undici that moves or replaces them
 * fails here, not in a user's night.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot } from './support/cli.js';

const probe = `
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const dist = (f) => pathToFileURL(${JSON.stringify(join(repoRoot, 'dist'))} + '/' + f).href;
const parts = await import(dist('undiciParts.js'));
await import(dist('pveApi/transport.js'));
await import(dist('notify/send.js'));
const require = createRequire(dist('cli.js'));
const loaded = () => Object.keys(require.cache).filter((k) => k.includes('/node_modules/undici/'));
const indexLoadedBefore = loaded().some((k) => k.endsWith('/undici/index.js'));
const filesBefore = loaded().length;
const agent = new parts.Agent();
const hasRequest = typeof agent.request === 'function';
await agent.close();
const undici = require('undici');
process.stdout.write(JSON.stringify({
  indexLoadedBefore,
  filesBefore,
  filesAfter: loaded().length,
  hasRequest,
  sameAgent: parts.Agent === undici.Agent,
  sameConnector: parts.buildConnector === undici.buildConnector,
  sameRequest: agent.request === undici.Agent.prototype.request,
}));
`;

describe('undici parts', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 180_000);

  it('the HTTP modules load only the parts they use, and those are what undici exports', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', probe],
      {
        cwd: repoRoot,
        timeout: 30_000,
      },
    );
    const r = JSON.parse(stdout) as Record<string, number | boolean>;
    expect(r).toMatchObject({
      indexLoadedBefore: false,
      hasRequest: true,
      sameAgent: true,
      sameConnector: true,
      sameRequest: true,
    });
    // The index brings in many more files (fetch, WebSocket, caches, mocks …).
    expect(r.filesAfter as number).toBeGreaterThan((r.filesBefore as number) * 1.5);
  });
});
