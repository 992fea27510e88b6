/**
 * Parameter checking of POST /nodes/{node}/vzdump against the real schema of
 * the flavour (fixtures/vzdump-params.json, docs/pve-facts.md#vzdump): unknown parameters,
 * types, enums, ranges, CLI-only and root-only options, required vmid.
 */
import { readFileSync } from 'node:fs';
import { paramError } from './envelope.js';
import type { FlavourTraits } from './flavours.js';

interface ParamSpec {
  type: 'string' | 'integer' | 'boolean' | 'array';
  enum?: string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  format?: string;
  presentIn: Record<string, boolean>;
  rootOnlyIn: string[];
  cliOnly?: string;
  requires?: string;
  history?: Record<string, Partial<ParamSpec>>;
}

interface ParamsFile {
  parameters: Record<string, ParamSpec>;
}

let cached: ParamsFile | undefined;

/** The vzdump schema data shipped in fixtures/ (read once). */
export function vzdumpParams(): ParamsFile {
  cached ??= JSON.parse(
    readFileSync(new URL('../../fixtures/vzdump-params.json', import.meta.url), 'utf8'),
  ) as ParamsFile;
  return cached;
}

const NOT_IN_SCHEMA =
  'property is not defined in schema and the schema does not allow additional properties';
const BOOL = /^(0|1|true|false|yes|no|on|off)$/i;
const VMID_LIST = /^\d+([,;\s]+\d+)*$/;

function checkValue(name: string, spec: ParamSpec, value: string): string | undefined {
  switch (spec.type) {
    case 'boolean':
      return BOOL.test(value) ? undefined : `type check ('boolean') failed - got '${value}'`;
    case 'integer': {
      if (!/^-?\d+$/.test(value)) return `type check ('integer') failed - got '${value}'`;
      const n = Number(value);
      if (spec.minimum !== undefined && n < spec.minimum) {
        return `value must have a minimum value of ${spec.minimum}`;
      }
      if (spec.maximum !== undefined && n > spec.maximum) {
        return `value may have a maximum value of ${spec.maximum}`;
      }
      return undefined;
    }
    default:
      if (spec.enum && !spec.enum.includes(value)) {
        return `value '${value}' does not have a value in the enumeration '${spec.enum.join(', ')}'`;
      }
      if (spec.maxLength !== undefined && value.length > spec.maxLength) {
        return `value may only be ${spec.maxLength} characters long`;
      }
      if (spec.format === 'pve-vmid-list' && !VMID_LIST.test(value.trim())) {
        return `invalid format - value '${value}' does not look like a valid VM ID`;
      }
      if (name === 'storage' && !/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(value)) {
        return `invalid format - storage ID '${value}' contains illegal characters`;
      }
      return undefined;
  }
}

/** Whether a boolean parameter value is true. */
export function isTrue(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v);
}

/**
 * Validates vzdump parameters; throws 400 with per-parameter errors as PVE
 * does. `user` is PVE's request user (a token's is `user@realm!id`).
 */
export function validateVzdump(
  flavour: FlavourTraits,
  pathNode: string,
  args: Record<string, string | string[]>,
  user: string,
): Record<string, string> {
  const specs = vzdumpParams().parameters;
  const errors: Record<string, string> = {};
  const flat: Record<string, string> = {};
  for (const [name, raw] of Object.entries(args)) {
    const base = specs[name];
    if (!base?.presentIn[flavour.schemaKey]) {
      errors[name] = NOT_IN_SCHEMA;
      continue;
    }
    const spec = { ...base, ...(base.history?.[flavour.schemaKey] ?? {}) } as ParamSpec;
    const values = Array.isArray(raw) ? raw : [raw];
    if (values.length > 1 && spec.type !== 'array') {
      errors[name] = `type check ('${spec.type}') failed - got array`;
      continue;
    }
    for (const v of values) {
      const err = spec.type === 'array' ? undefined : checkValue(name, spec, v);
      if (err) errors[name] = err;
    }
    flat[name] = values.join('\0');
  }
  if (Object.keys(errors).length > 0) throw paramError(errors);
  if (flat.stdout !== undefined)
    errors.stdout = 'option is only allowed on the command line interface.';
  if (flat.node !== undefined && flat.node !== pathNode) {
    errors.node = 'option is only allowed on the command line interface.';
  }
  if (
    flat.vmid === undefined &&
    !isTrue(flat.all) &&
    flat.pool === undefined &&
    !isTrue(flat.stop)
  ) {
    errors.vmid = 'property is missing';
  }
  for (const other of ['all', 'exclude', 'pool']) {
    if (
      flat.vmid !== undefined &&
      flat[other] !== undefined &&
      (other !== 'all' || isTrue(flat.all))
    ) {
      errors[other] = "option conflicts with option 'vmid'";
    }
  }
  if (flat.storage !== undefined && flat.dumpdir !== undefined) {
    errors.storage = "option conflicts with option 'dumpdir'";
  }
  for (const name of Object.keys(flat)) {
    const req = specs[name]?.requires;
    if (req && flat[req] === undefined) errors[name] = `missing property - '${req}' is required`;
  }
  if (Object.keys(errors).length > 0) throw paramError(errors);
  // Root-only options compare the request user literally with root@pam: a root token fails.
  if (user !== 'root@pam') {
    for (const name of Object.keys(flat)) {
      if (specs[name]?.rootOnlyIn.includes(flavour.rootOnlyRange)) {
        errors[name] = 'Only root may set this option.';
      }
    }
    if (Object.keys(errors).length > 0) throw paramError(errors);
  }
  return flat;
}

/** The vmids of a `vmid` list parameter. */
export function parseVmidList(value: string | undefined): number[] {
  if (!value) return [];
  return value
    .trim()
    .split(/[,;\s]+/)
    .filter((s) => s !== '')
    .map(Number);
}
