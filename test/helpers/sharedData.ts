// Locates ../shared/data. In CI (CI=true) a missing data folder is a failure, never a skip.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SHARED_DIR = resolve(__dirname, '../../../shared');
export const SHARED_DATA_DIR = join(SHARED_DIR, 'data');

/** The absolute path of a file or folder under ../shared/data; it may not exist (see skipWithoutSharedData). */
export function sharedDataPath(...parts: string[]): string {
  return join(SHARED_DATA_DIR, ...parts);
}

/**
 * `skip` option for node:test: a reason string when the shared data is absent outside CI,
 * false when it is present. In CI a missing folder throws, so the suite fails.
 */
export function skipWithoutSharedData(...parts: string[]): string | false {
  const p = sharedDataPath(...parts);
  if (existsSync(p)) return false;
  if (process.env.CI === 'true') throw new Error(`CI=true but the shared test data is missing: ${p}`);
  return `shared test data not found at ${p}`;
}
