/**
 * The parts of undici this tool uses (an Agent, its TLS connector and the
 * request API), loaded without the rest of the package.
 *
 * `import 'undici'` loads everything undici offers: fetch, WebSocket,
 * EventSource, caches, mocks, proxy agents. Loading `run` with its PVE client
 * and notifications took 391 ms of CPU and 66 MiB with the index, 306 ms and
 * 62 MiB with these parts (median of 9 starts each): every command that talks
 * to PVE or sends a notification starts that much sooner. undici has no exports
 * map, so its files can be required one by one. The version is pinned
 * exactly, and test/e2e/undiciParts.test.ts fails when a new version moves
 * these files or makes them differ from what the package's index exports.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

const DispatcherClass = require('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
// What undici's index.js does when it loads: the request API on every dispatcher.
Object.assign(DispatcherClass.prototype, require('undici/lib/api/index.js'));

export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export type Agent = Undici.Agent;
export const buildConnector = require('undici/lib/core/connect.js') as typeof Undici.buildConnector;
/** What buildConnector returns, and what an Agent's `connect` option takes. */
export type Connector = Undici.buildConnector.connector;
export type { Dispatcher } from 'undici';
