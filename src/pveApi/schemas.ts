/**
 * Zod schemas of the PVE answers we use, validated once at the edge (client.ts
 * unwraps the `{ data }` envelope). They accept the quirks real servers send:
 * numbers as JSON strings (Perl scalars that came from text, e.g. the LXC
 * `vmid` before pve-container 5.0.10 and every OpenVZ `vmid`), booleans as
 * 0/1/"0"/"1"/true/false, empty `lock` strings, and fields that appear only in
 * some versions. Only fields we use are declared; unknown keys are dropped.
 */
import { z } from 'zod';

/** A number, or a string holding a decimal number (Perl serialises text-born scalars as strings). */
export const Num = z.union([
  z.number().finite(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, 'expected a number')
    .transform(Number),
]);

/** PVE booleans: 0/1 integers on every version, sometimes strings, JSON booleans from newer Rust-backed code. */
export const Bool = z
  .union([z.boolean(), z.literal(0), z.literal(1), z.literal('0'), z.literal('1')])
  .transform((v) => v === true || v === 1 || v === '1');

/** A string that PVE may also send as a number (e.g. `release` of /version on some versions). */
const Text = z.union([z.string(), z.number().transform(String)]);

/** Optional string where `""` means "none" (e.g. `lock`). */
const OptionalText = z
  .string()
  .optional()
  .nullable()
  .transform((v) => (v ? v : undefined));

/** `GET /version`. */
export const Version = z.object({
  version: Text,
  release: Text.optional(),
  repoid: z.string().optional(),
});
export type Version = z.infer<typeof Version>;

const NodeStatus = z.enum(['online', 'offline', 'unknown']).catch('unknown');

/**
 * `GET /nodes` rows; unknown states become `unknown`. Before PVE 5.1-37 (PM
 * b67e6398, so every 3.x and 4.x) rows have no `status`: `uptime` (with cpu,
 * mem) is present exactly when the node is online — standalone, or a cluster
 * member that is online — which is what later versions call `online`.
 */
export const NodeRow = z
  .object({
    node: z.string().min(1),
    status: z.unknown().optional(),
    uptime: z.unknown().optional(),
  })
  .transform(({ node, status, uptime }) => ({
    node,
    status:
      status === undefined || status === null
        ? uptime === undefined || uptime === null
          ? ('unknown' as const)
          : ('online' as const)
        : NodeStatus.parse(status),
  }));
export const Nodes = z.array(NodeRow);
export type NodeRow = z.infer<typeof NodeRow>;

/** `GET /cluster/resources?type=vm` rows (status absent on 3.x for offline nodes). */
export const ResourceRow = z.object({
  vmid: Num.optional(),
  node: z.string().optional(),
  type: z.string(),
  status: OptionalText,
  name: OptionalText,
  template: Bool.optional(),
});
export const Resources = z.array(ResourceRow);

/** `GET /nodes/{node}/{lxc|qemu|openvz}` rows. */
export const GuestRow = z.object({
  vmid: Num,
  name: OptionalText,
  status: z.string(),
  template: Bool.optional(),
  lock: OptionalText,
});
export const Guests = z.array(GuestRow);

/** `POST /nodes/{node}/vzdump`: a UPID, or `"OK"` when nothing was started. */
export const VzdumpAnswer = z.string();

/** `GET /nodes/{node}/tasks/{upid}/status` (early versions documented only pid/status, so most fields are optional). */
export const TaskStatus = z.object({
  upid: z.string().optional(),
  status: z.enum(['running', 'stopped']),
  exitstatus: z.string().optional(),
});

/** One line of `GET …/tasks/{upid}/log`. */
export const TaskLogLine = z.object({ n: Num, t: z.string() });
export const TaskLog = z.array(TaskLogLine);

/** `GET /nodes/{node}/tasks` rows. */
export const TaskRow = z.object({
  upid: z.string(),
  type: z.string(),
  id: z.string().optional().default(''),
  status: OptionalText,
  user: z.string().optional(),
  starttime: Num.optional(),
});
export const Tasks = z.array(TaskRow);
export type TaskRow = z.infer<typeof TaskRow>;

/** `GET /nodes/{node}/storage/{storage}/content?content=backup` rows (vmid/ctime only from PS 6.1-6). */
export const BackupVolumeRow = z.object({
  volid: z.string().min(1),
  size: Num,
  format: z.string().optional(),
  vmid: Num.optional(),
  ctime: Num.optional(),
  content: z.string().optional(),
});
export const BackupVolumes = z.array(BackupVolumeRow);

/** `DELETE …/content/{volume}`: a UPID of an imgdel task (PVE >= 6.0) or null. */
export const DeleteVolumeAnswer = z.string().nullable().optional();

/** `POST /access/ticket`. */
export const Ticket = z.object({
  username: z.string(),
  ticket: z.string().min(1),
  CSRFPreventionToken: z.string().min(1),
  NeedTFA: Bool.optional(),
});
export type Ticket = z.infer<typeof Ticket>;

/** Any answer: the envelope; `data` is validated by the endpoint's schema. */
export const Envelope = z.object({
  data: z.unknown(),
  total: Num.optional(),
});

/** An error answer's body: parameter errors (400) and, since PHS 5.2.0, `message`. */
export const ErrorBody = z.object({
  errors: z.record(z.string(), z.string()).nullable().optional(),
  message: z.string().optional(),
});
