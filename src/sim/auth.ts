/**
 * Authentication as pveproxy does it (docs/pve-facts.md#auth): tickets signed by the
 * cluster (`PVE:<user>:<hex time>::<signature>`), CSRF tokens tied to the user,
 * and stateless API tokens (≥ 6.2). The signature is an HMAC here (real PVE
 * signs with RSA); the shape and lifetime rules are the real ones.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from './envelope.js';
import type { FlavourTraits } from './flavours.js';
import type { SimToken, SimUser } from './scenario.js';

/** Who a request runs as. */
export interface AuthContext {
  /** `user@realm`, or for a token `user@realm!tokenid` (PVE's request user). */
  user: string;
  kind: 'ticket' | 'token';
}

/** A successful POST /access/ticket answer. */
export interface TicketAnswer {
  username: string;
  ticket: string;
  CSRFPreventionToken: string;
  cap: Record<string, Record<string, number>>;
  clustername?: string;
}

/** Clock-skew tolerance PVE applies to ticket and CSRF times. */
const SKEW_SEC = 300;

const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');

export class SimAuth {
  readonly #key = randomBytes(32);
  readonly #users: SimUser[];
  readonly #tokens: SimToken[];

  constructor(
    private readonly flavour: FlavourTraits,
    users: SimUser[],
    tokens: SimToken[],
    private readonly lifetimeSec: number,
    private readonly clusterName: string | undefined,
  ) {
    this.#users = users;
    this.#tokens = tokens;
  }

  #sign(data: string, bytes: number): string {
    // Real tickets carry a 4096-bit RSA signature (512 bytes); imitate its length.
    const parts: Buffer[] = [];
    for (let i = 0; parts.length * 64 < bytes; i++) {
      parts.push(createHmac('sha512', this.#key).update(`${i}:${data}`).digest());
    }
    return Buffer.concat(parts).subarray(0, bytes).toString('base64');
  }

  #csrf(user: string, time: number): string {
    const t = hex8(time);
    const mac = createHmac('sha256', this.#key).update(`${t}:${user}`).digest('base64');
    return `${t}:${mac.replace(/=+$/, '')}`;
  }

  #issue(user: string): TicketAnswer {
    const now = Math.floor(Date.now() / 1000);
    const plain = `PVE:${user}:${hex8(now)}`;
    const answer: TicketAnswer = {
      username: user,
      ticket: `${plain}::${this.#sign(plain, 512)}`,
      CSRFPreventionToken: this.#csrf(user, now),
      cap: {
        vms: { 'VM.Backup': 1, 'VM.Audit': 1 },
        storage: { 'Datastore.AllocateSpace': 1, 'Datastore.Audit': 1 },
        nodes: { 'Sys.Audit': 1 },
        access: {},
        dc: {},
      },
    };
    if (this.clusterName) answer.clustername = this.clusterName;
    return answer;
  }

  /** The user a ticket belongs to, or undefined when it is forged or expired. */
  verifyTicket(ticket: string): string | undefined {
    const m = /^PVE:([^:\s]+):([0-9A-F]{8})::(\S+)$/.exec(ticket);
    if (!m) return undefined;
    const plain = `PVE:${m[1]}:${m[2]}`;
    const want = Buffer.from(this.#sign(plain, 512));
    const got = Buffer.from(m[3]!);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    const age = Math.floor(Date.now() / 1000) - Number.parseInt(m[2]!, 16);
    if (age > this.lifetimeSec || age < -SKEW_SEC) return undefined;
    return m[1];
  }

  #verifyCsrf(user: string, token: string | undefined): boolean {
    if (!token) return false;
    const m = /^([0-9A-F]{8}):/.exec(token);
    if (!m) return false;
    const time = Number.parseInt(m[1]!, 16);
    const age = Math.floor(Date.now() / 1000) - time;
    if (age > this.lifetimeSec || age < -SKEW_SEC) return false;
    const want = Buffer.from(this.#csrf(user, time));
    const got = Buffer.from(token);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  /** POST /access/ticket: password login or renewal with a still-valid ticket. */
  login(params: Record<string, string>): TicketAnswer {
    let username = params.username ?? '';
    if (!username.includes('@') && params.realm) username = `${username}@${params.realm}`;
    const password = params.password ?? '';
    if (password.startsWith('PVE:')) {
      if (this.verifyTicket(password) === username) return this.#issue(username);
      throw new ApiError(401, this.flavour.reasons.loginFailed);
    }
    const user = this.#users.find((u) => u.userid === username);
    if (
      !user ||
      Buffer.byteLength(user.password) !== Buffer.byteLength(password) ||
      !timingSafeEqual(Buffer.from(user.password), Buffer.from(password))
    ) {
      throw new ApiError(401, this.flavour.reasons.loginFailed);
    }
    return this.#issue(username);
  }

  /** Authenticates a request; throws a 401 ApiError as pveproxy would. */
  authenticate(method: string, headers: IncomingHttpHeaders): AuthContext {
    const authz = headers.authorization;
    if (this.flavour.tokens && authz?.startsWith('PVEAPIToken=')) return this.#token(authz);
    let ticket: string | undefined;
    if (this.flavour.cookieInAuthHeader && authz?.startsWith('PVEAuthCookie=')) {
      ticket = decodeURIComponent(authz.slice('PVEAuthCookie='.length));
    }
    for (const part of (headers.cookie ?? '').split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === 'PVEAuthCookie') ticket = decodeURIComponent(v.join('='));
    }
    if (!ticket) throw new ApiError(401, this.flavour.reasons.noTicket);
    const user = this.verifyTicket(ticket);
    if (!user) throw new ApiError(401, this.flavour.reasons.invalidTicket);
    if (method !== 'GET') {
      const csrf = headers.csrfpreventiontoken;
      if (!this.#verifyCsrf(user, Array.isArray(csrf) ? csrf[0] : csrf)) {
        throw new ApiError(401, 'Permission denied - invalid csrf token');
      }
    }
    return { user, kind: 'ticket' };
  }

  #token(authz: string): AuthContext {
    const m = /^PVEAPIToken=([^\s!=]+@[^\s!=]+)(?:!([^\s=]+))?=(\S+)$/.exec(authz);
    if (!m) throw new ApiError(401, this.flavour.reasons.invalidToken);
    if (!m[2]) throw new ApiError(401, 'no tokenid specified');
    const id = `${m[1]}!${m[2]}`;
    const token = this.#tokens.find((t) => t.id === id);
    const secret = m[3]!;
    if (
      !token ||
      Buffer.byteLength(token.secret) !== Buffer.byteLength(secret) ||
      !timingSafeEqual(Buffer.from(token.secret), Buffer.from(secret))
    ) {
      throw new ApiError(401, this.flavour.reasons.invalidToken);
    }
    return { user: id, kind: 'token' };
  }
}
