/**
 * A dispatcher passed in (as undici-based clients such as octokit allow) carries every
 * request, TLS included, and stays open for its owner when the client closes.
 */
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PveSimulator } from '../../../src/sim/index.js';
import { clientFor, start } from './support.js';

let sim: PveSimulator;
beforeAll(async () => {
  sim = await start('8.4');
});
afterAll(async () => {
  await sim?.close();
});

/** An Agent trusting the simulator's CA that counts what is dispatched through it. */
function countingAgent(): { agent: Agent; dispatched: () => number } {
  let n = 0;
  const agent = new Agent({ connect: { ca: sim.caCertPem } });
  const dispatch = agent.dispatch.bind(agent);
  agent.dispatch = (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => {
    n++;
    return dispatch(opts, handler);
  };
  return { agent, dispatched: () => n };
}

describe('dispatcher option', () => {
  it('sends every request through the given dispatcher and leaves it open on close', async () => {
    const { agent, dispatched } = countingAgent();
    const before = sim.requests.length;
    // No tls option at all: trust comes from the agent's CA, so only the agent can reach the sim.
    const client = clientFor(sim, 'token', { tls: undefined, dispatcher: agent });
    expect((await client.version()).major).toBe(8);
    expect(await client.nodes()).toHaveLength(2);
    await client.close();
    expect(dispatched()).toBe(2);
    expect(sim.requests.length - before).toBe(2);

    // Still usable by its owner after the client closed.
    const again = clientFor(sim, 'token', { tls: undefined, dispatcher: agent });
    expect((await again.version()).major).toBe(8);
    await again.close();
    expect(dispatched()).toBe(3);
    await agent.close();
  });
});
