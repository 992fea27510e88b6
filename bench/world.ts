/**
 * Bench helper process: the simulated cluster (real hook) and the FTP server,
 * kept out of the orchestrator's process so its RSS and CPU are its own.
 * The first stdin line is the JSON WorldOptions (too big for argv with 100
 * nodes). Prints one `ready` JSON line; then on stdin `dump` prints the task
 * and request records, `close` shuts down.
 */
import { createInterface } from 'node:readline';
import { startWorld, type WorldOptions } from '../src/demo/world.js';
import { trackTasks } from './metrics.js';

const rl = createInterface({ input: process.stdin });
const input = rl[Symbol.asyncIterator]();
const options = JSON.parse((await input.next()).value ?? '{}') as WorldOptions;
const world = await startWorld(options);
// Watch the tasks closely (10 ms) to know when each really started and ended.
const tracked = trackTasks(world.sim, 10);

process.stdout.write(
  `${JSON.stringify({ ready: true, configPath: world.configPath, env: world.env, tmp: world.tmp })}\n`,
);

for (let next = await input.next(); !next.done; next = await input.next()) {
  const line = next.value;
  if (line === 'dump') {
    const requests = world.sim.requests
      .filter((r) => r.path.includes('/tasks/') || r.path.endsWith('/vzdump'))
      .map((r) => ({ method: r.method, path: r.path, at: r.at }));
    process.stdout.write(`${JSON.stringify({ tasks: [...tracked.records.values()], requests })}\n`);
  } else if (line === 'close') {
    break;
  }
}
tracked.stop();
await world.close();
process.exit(0);
