/**
 * Just enough of a PVE API client for the hook tests to start a vzdump over
 * real HTTPS (undici, trusting the simulator's CA) and read the task back.
 * The project's own client lives in src/pveApi; the hook tests stay
 * independent of it so that a client bug cannot hide a hook bug.
 */
import { Agent, request } from 'undici';
import type { PveSimulator } from '../../../src/sim/index.js';

export const simToken = { id: 'backup@pve!hooktest', secret: '5e3f0c1a-hook-test-token-secret' };
export const simUser = { userid: 'root@pam', password: 'sim-root-password' };

type Auth = { kind: 'token' } | { kind: 'ticket' };

export class SimClient {
  readonly #agent: Agent;
  readonly #sim: PveSimulator;
  #headers: Record<string, string> = {};

  private constructor(sim: PveSimulator) {
    this.#sim = sim;
    this.#agent = new Agent({ connect: { ca: sim.caCertPem } });
  }

  /** Logs in with the test token (PVE >= 6.2) or with a ticket (3.x). */
  static async connect(sim: PveSimulator, auth: Auth): Promise<SimClient> {
    const client = new SimClient(sim);
    if (auth.kind === 'token') {
      client.#headers = { authorization: `PVEAPIToken=${simToken.id}=${simToken.secret}` };
    } else {
      const body = new URLSearchParams({ username: simUser.userid, password: simUser.password });
      const data = (await client.#call('POST', '/access/ticket', body)) as {
        ticket: string;
        CSRFPreventionToken: string;
      };
      client.#headers = {
        cookie: `PVEAuthCookie=${encodeURIComponent(data.ticket)}`,
        csrfpreventiontoken: data.CSRFPreventionToken,
      };
    }
    return client;
  }

  async #call(method: 'GET' | 'POST', path: string, form?: URLSearchParams): Promise<unknown> {
    const res = await request(`${this.#sim.url}/api2/json${path}`, {
      method,
      dispatcher: this.#agent,
      headers: {
        ...this.#headers,
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: form.toString() } : {}),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200)
      throw new Error(`${method} ${path}: HTTP ${res.statusCode} ${text}`);
    return (JSON.parse(text) as { data: unknown }).data;
  }

  /** POST /nodes/{node}/vzdump; returns the UPID. */
  async vzdump(node: string, params: Record<string, string>): Promise<string> {
    const upid = await this.#call('POST', `/nodes/${node}/vzdump`, new URLSearchParams(params));
    if (typeof upid !== 'string' || !upid.startsWith('UPID:')) {
      throw new Error(`vzdump did not start a task: ${JSON.stringify(upid)}`);
    }
    return upid;
  }

  /** Waits for the task to stop; returns its exit status and whole log. */
  async finish(node: string, upid: string): Promise<{ exitstatus: string; log: string[] }> {
    await this.#sim.idle();
    const path = `/nodes/${node}/tasks/${encodeURIComponent(upid)}`;
    const status = (await this.#call('GET', `${path}/status`)) as {
      status: string;
      exitstatus?: string;
    };
    const rows = (await this.#call('GET', `${path}/log?start=0&limit=100000`)) as {
      n: number;
      t: string;
    }[];
    return { exitstatus: status.exitstatus ?? status.status, log: rows.map((r) => r.t) };
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}
