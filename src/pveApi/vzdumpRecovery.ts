/**
 * What to do when the answer to `POST /nodes/{node}/vzdump` is lost (reset,
 * timeout, 596 from the pveproxy → pvedaemon hop). The POST may or may not
 * have started a task; sending it again could back the guest up twice, or
 * queue a second job behind the node lock. So instead: look for the vzdump
 * task of that vmid among the node's tasks (a few times — the server may still
 * be forking the worker) and return its UPID, or fail clearly. A task that
 * started and already ended inside pveproxy's timeout is ours too: finished
 * tasks count when they started after our POST (minus a clock slack), so the
 * guest runner follows, verifies and saves it like any other.
 */
import type { Logger } from '../log.js';
import { isLoginFailure } from './apiCall.js';
import { errorCode, findTlsError, PveApiError } from './errors.js';
import { apiPath } from './http.js';
import { backoffDelay, isNotSentError, type RetryPolicy, sleep } from './retry.js';
import { parseUpid } from './upid.js';

/** A vzdump task of the node, running or finished. */
export interface FoundTask {
  upid: string;
  id: string;
  /** True when the task list says it has ended (a status other than RUNNING). */
  finished?: boolean;
}

/**
 * How much earlier than our POST (by our clock) a finished task may have
 * started (by the node's clock) and still be ours: clock skew between this
 * host and the node. Our other runs never back this node up at the same time
 * (the NAS lock), so a wide slack cannot pick up a task of ours from another run.
 */
export const FINISHED_TASK_SLACK_SEC = 300;

/** What the search needs from the client. */
export interface RecoveryDeps {
  cluster: string;
  /** Our user or token id: the UPID user of tasks we started. */
  principal: string;
  policy: RetryPolicy;
  logger: Logger;
  /** The node's vzdump tasks for the vmid (ids equal to the vmid, or empty), running and recently finished. */
  vzdumpTasks: (signal?: AbortSignal) => Promise<FoundTask[]>;
  /** When the POST was sent (ms since the epoch, our clock). */
  postedAt: number;
}

/**
 * True for a failure after which the POST may have been executed: the
 * connection broke or timed out after the request was (possibly) sent, or
 * pveproxy's forward failed mid-way. pveproxy passes AnyEvent::HTTP's
 * pseudo-codes through: 596 = request sending / header phase, 597 = body of
 * the answer (pvedaemon had already run the POST); 595 (connect) and 599
 * (before sending) are failures before the request got through. Not: TLS
 * refusal, connect failures, a failed login before the POST, real answers.
 */
export function isLostAnswer(err: unknown): boolean {
  if (findTlsError(err)) return false;
  if (!(err instanceof PveApiError) || isLoginFailure(err)) return false;
  if (err.status === undefined) return !isNotSentError(err) && err.code !== undefined;
  return err.status === 596 || err.status === 597;
}

/** Returns the UPID of the task the lost POST started, or throws a PveApiError saying nothing was re-sent. */
export async function findLostVzdump(
  deps: RecoveryDeps,
  node: string,
  vmid: number,
  lost: unknown,
  signal?: AbortSignal,
): Promise<string> {
  const path = apiPath('nodes', node, 'vzdump');
  const { cluster, logger } = deps;
  logger.warn('answer to vzdump POST lost; looking for the task it may have started', {
    cluster,
    node,
    vmid,
    code: errorCode(lost),
    status: lost instanceof PveApiError ? lost.status : undefined,
  });
  const fail = (why: string) =>
    new PveApiError(
      {
        cluster,
        method: 'POST',
        path,
        ...(lost instanceof PveApiError && lost.status !== undefined
          ? { status: lost.status }
          : {}),
        code: errorCode(lost),
        cause: lost,
      },
      `cluster "${cluster}": answer to POST ${path} (vmid ${vmid}) was lost and ${why}`,
    );
  const since = Math.floor(deps.postedAt / 1000) - FINISHED_TASK_SLACK_SEC;
  const rounds = Math.max(1, deps.policy.attempts);
  for (let round = 1; round <= rounds; round++) {
    // Only tasks of our own user (a scheduled job of the same guest is not ours), and a
    // finished one only when it started after our POST: an older one is another run's.
    const ours = (await deps.vzdumpTasks(signal)).filter((t) => {
      const upid = parseUpid(t.upid);
      return upid?.user === deps.principal && (!t.finished || upid.starttime >= since);
    });
    const exact = ours.filter((t) => t.id === String(vmid));
    // Before PVE 5.3-8 the vzdump UPID has an empty id; the NAS lock keeps our
    // other runs off this node, so a single such task of ours is this one.
    const candidates = exact.length > 0 ? exact : ours.filter((t) => t.id === '');
    if (candidates.length === 1 && candidates[0]) {
      logger.info('found the vzdump task of the lost answer', {
        cluster,
        node,
        vmid,
        finished: candidates[0].finished === true,
      });
      return candidates[0].upid;
    }
    if (candidates.length > 1) {
      throw fail(`${candidates.length} vzdump tasks could be ours; not re-sent`);
    }
    if (round < rounds) await sleep(backoffDelay(round, deps.policy), signal);
  }
  throw fail(
    `no vzdump task for it is running or finished on node ${node}; not re-sent to avoid a duplicate backup`,
  );
}
