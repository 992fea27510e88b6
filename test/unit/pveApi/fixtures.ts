/** Reads the trimmed real PVE answers and task logs kept in fixtures/pve-api. */
import { readdirSync, readFileSync } from 'node:fs';

const dir = new URL('../../../fixtures/pve-api/', import.meta.url);

export function fixtureJson(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
}

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, dir), 'utf8');
}

export function fixtureNames(ext: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .sort();
}
