/**
 * Authentication state of one cluster. An API token (PVE >= 6.2) is a static
 * header and needs no CSRF token. A user + password gets a ticket and a
 * CSRFPreventionToken from POST /access/ticket; the ticket lives 2 hours, so it
 * is renewed before that (PVE accepts the current ticket as the password), and
 * a 401 on a call triggers one full re-login. Secrets live only in this
 * object's private fields and in request headers — never in a message.
 */
import type { Params, RawResponse } from './http.js';
import { Ticket } from './schemas.js';

/** Credentials of a cluster. */
export type PveAuth =
  | { kind: 'token'; tokenId: string; secret: string }
  | { kind: 'ticket'; username: string; password: string };

/** Why a login failed; client.ts turns it into PveAuthError. */
export class LoginRejected extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`login rejected: ${status} ${reason}`);
    this.name = 'LoginRejected';
  }
}

/** Sends `POST /access/ticket` with the given form (supplied by client.ts). */
export type TicketSender = (form: Params, signal?: AbortSignal) => Promise<RawResponse>;

/** Per-cluster authentication: request headers, login, renewal and re-login. */
export interface AuthState {
  /** `user@realm` or the token id: what messages may name. */
  readonly principal: string;
  readonly kind: 'token' | 'ticket';
  /** Headers for a request; logs in or renews first when needed. */
  headers(method: string, signal?: AbortSignal): Promise<Record<string, string>>;
  /** After a 401: whether a fresh login may help (ticket mode). Performs it. */
  relogin(signal?: AbortSignal): Promise<boolean>;
  /** The secrets currently in use (for redaction at a log sink). */
  secrets(): string[];
}

/** Default age after which a ticket is renewed: half of PVE's 2-hour lifetime. */
export const DEFAULT_TICKET_RENEW_MS = 60 * 60 * 1000;

/** Options of createAuth. */
export interface AuthOptions {
  /** Ticket age that triggers renewal. */
  renewAfterMs?: number;
  now?: () => number;
  /** Told every secret as it comes into use (configured one at once, each new ticket/CSRF token), for redaction. */
  onSecrets?: (secrets: string[]) => void;
}

/** Creates the auth state. */
export function createAuth(
  auth: PveAuth,
  sendTicket: TicketSender,
  options: AuthOptions = {},
): AuthState {
  const onSecrets = options.onSecrets ?? (() => {});
  if (auth.kind === 'token') {
    onSecrets([auth.secret]);
    return tokenAuth(auth.tokenId, auth.secret);
  }
  onSecrets([auth.password]);
  return new TicketAuth(
    auth.username,
    auth.password,
    sendTicket,
    options.renewAfterMs ?? DEFAULT_TICKET_RENEW_MS,
    options.now ?? Date.now,
    onSecrets,
  );
}

function tokenAuth(tokenId: string, secret: string): AuthState {
  const header = `PVEAPIToken=${tokenId}=${secret}`;
  return {
    principal: tokenId,
    kind: 'token',
    headers: async () => ({ authorization: header }),
    // Tokens are stateless: a 401 means the token is wrong, revoked or expired.
    relogin: async () => false,
    secrets: () => [secret],
  };
}

interface Session {
  ticket: string;
  csrf: string;
  obtainedAt: number;
}

class TicketAuth implements AuthState {
  readonly principal: string;
  readonly kind = 'ticket' as const;
  // Private (#) so that logging or inspecting the object cannot reveal the password.
  readonly #password: string;
  #session: Session | undefined;
  #pending: Promise<Session> | undefined;

  constructor(
    private readonly username: string,
    password: string,
    private readonly sendTicket: TicketSender,
    private readonly renewAfterMs: number,
    private readonly now: () => number,
    private readonly onSecrets: (secrets: string[]) => void,
  ) {
    this.principal = username;
    this.#password = password;
  }

  async headers(method: string, signal?: AbortSignal): Promise<Record<string, string>> {
    let session = this.#session;
    if (!session) {
      session = await this.#singleFlight(() => this.#login(this.#password, signal));
    } else if (this.now() - session.obtainedAt >= this.renewAfterMs) {
      session = await this.#singleFlight(() => this.#renew(session as Session, signal));
    }
    const headers: Record<string, string> = {
      cookie: `PVEAuthCookie=${encodeURIComponent(session.ticket)}`,
    };
    // PVE wants the CSRF token on every state-changing request made with a ticket.
    if (method !== 'GET') headers.csrfpreventiontoken = session.csrf;
    return headers;
  }

  async relogin(signal?: AbortSignal): Promise<boolean> {
    this.#session = undefined;
    await this.#singleFlight(() => this.#login(this.#password, signal));
    return true;
  }

  secrets(): string[] {
    return [this.#password, this.#session?.ticket, this.#session?.csrf].filter((s): s is string =>
      Boolean(s),
    );
  }

  /** Concurrent callers share one login instead of each posting the password. */
  #singleFlight(run: () => Promise<Session>): Promise<Session> {
    if (!this.#pending) {
      this.#pending = run()
        .then((s) => {
          this.#session = s;
          return s;
        })
        .finally(() => {
          this.#pending = undefined;
        });
    }
    return this.#pending;
  }

  async #renew(old: Session, signal?: AbortSignal): Promise<Session> {
    try {
      return await this.#login(old.ticket, signal);
    } catch (err) {
      // The old ticket may have expired meanwhile (e.g. a long idle spell): log in afresh.
      if (err instanceof LoginRejected) return this.#login(this.#password, signal);
      throw err;
    }
  }

  async #login(password: string, signal?: AbortSignal): Promise<Session> {
    const res = await this.sendTicket({ username: this.username, password }, signal);
    if (res.status !== 200) throw new LoginRejected(res.status, res.reason);
    const parsed = Ticket.safeParse((res.body as { data?: unknown } | undefined)?.data);
    if (!parsed.success) throw new LoginRejected(res.status, 'unexpected answer to /access/ticket');
    if (parsed.data.NeedTFA) {
      throw new LoginRejected(
        401,
        'the account needs a second factor (TFA); use an API token instead',
      );
    }
    this.onSecrets([parsed.data.ticket, parsed.data.CSRFPreventionToken]);
    return {
      ticket: parsed.data.ticket,
      csrf: parsed.data.CSRFPreventionToken,
      obtainedAt: this.now(),
    };
  }
}
