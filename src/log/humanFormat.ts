/**
 * The stderr sink of the logger: human one-liners (`12:00:01 warn  [home/pve1
 * 101] message key=value`), colour on a terminal, progress entries drawn on the
 * live board instead of printed.
 */
import winston from 'winston';
// Types only: winston's own dependency, reached at runtime through winston.Transport.
import type TransportStream from 'winston-transport';
import type { ProgressBoard } from './progressBoard.js';

export const LEVELS: Record<string, number> = winston.config.npm.levels;

/** Human one-liner: `12:00:01 warn  [home/pve1 101] message key=value`. */
export function humanLine(info: Record<string, unknown>, color: boolean): string {
  // runId is on every line of a run: useful in the JSON file, noise on a terminal.
  const {
    level,
    message,
    timestamp: _t,
    cluster,
    node,
    guest,
    vmid,
    progress,
    runId: _r,
    ...meta
  } = info;
  let text = String(message);
  // A progress entry reads `node: text`; the tag already names the node.
  if (progress === true && typeof node === 'string' && text.startsWith(`${node}: `)) {
    text = text.slice(node.length + 2);
  }
  const tagParts = [[cluster, node].filter(Boolean).join('/'), guest ?? vmid].filter(
    (x) => x !== undefined && x !== '',
  );
  const tag = tagParts.length > 0 ? ` [${tagParts.join(' ')}]` : '';
  const time = new Date().toTimeString().slice(0, 8);
  const lvl = String(level).padEnd(7);
  const painted = color ? winston.format.colorize().colorize(String(level), lvl) : lvl;
  const rest = Object.entries(meta)
    .filter(([k]) => typeof k === 'string')
    .map(([k, v]) => {
      if (v && typeof v === 'object' && 'message' in v)
        return `${k}=${String((v as { message: unknown }).message)}`;
      return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
    });
  return `${time} ${painted}${tag} ${text}${rest.length ? ` ${rest.join(' ')}` : ''}\n`;
}

// winston exports the base class as `Transport` at runtime but types it as `transport`.
const TransportBase = (winston as unknown as { Transport: typeof TransportStream }).Transport;

/** stderr sink: level filter of its own, so progress entries can reach a TTY board at any level. */
export class HumanTransport extends TransportBase {
  constructor(
    private readonly board: ProgressBoard,
    private readonly threshold: number,
    private readonly live: boolean,
    private readonly color: boolean,
  ) {
    super({ level: 'silly' });
  }
  override log(info: Record<string, unknown>, next: () => void): void {
    const isProgress = info.progress === true && typeof info.node === 'string';
    if (isProgress && this.live) {
      const prefix = `${info.node}: `;
      const msg = String(info.message);
      this.board.set(info.node as string, msg.startsWith(prefix) ? msg.slice(prefix.length) : msg);
    } else if ((LEVELS[String(info.level)] ?? 0) <= this.threshold) {
      this.board.write(humanLine(info, this.color));
    }
    next();
  }
}
