// The file checks of opening and saving a mask: file stamps (size, mtime, SHA-256) to notice
// outside changes, same-file and real-path tests, where a mask pattern may put masks, and whether
// an existing sidecar may be replaced.

import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isInsideFolder } from './maskPath';
import { SIDECAR_FORMAT } from './sidecar';
import { errorText } from '../util/errorText';

/** Where a mask pattern may put masks (see {@link OpenSessionOptions.maskLocation}). */
export interface MaskLocationRule {
  /** The workspace folders. */
  allowedFolders: readonly string[];
  /** The pattern comes from the user's settings (or is the default), not from the workspace. */
  patternFromUserSettings: boolean;
  /** Where the pattern came from, named in the message when refused (default "the workspace settings"). */
  patternOrigin?: string;
}

/** Size, modification time and SHA-256 of a file as last read or written here. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256OfFile(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolvePromise, reject) => {
    const stream = createReadStream(filePath, { highWaterMark: 1 << 20 });
    stream.on('data', (chunk: Buffer | string) =>
      hash.update(typeof chunk === 'string' ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
    );
    stream.on('error', reject);
    stream.on('end', () => resolvePromise());
  });
  return hash.digest('hex');
}

export async function fileExists(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

/** The stamp of a file, or null when there is none. */
export async function stampOfFile(filePath: string): Promise<FileStamp | null> {
  let st;
  try {
    st = await fsp.stat(filePath);
  } catch {
    return null;
  }
  return { size: st.size, mtimeMs: st.mtimeMs, sha256: await sha256OfFile(filePath) };
}

/** True when both paths exist and are the same file (symbolic links, hard links, case folding). */
export async function isSameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([fsp.stat(a), fsp.stat(b)]);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** The real path of `p`, resolving symbolic links in its longest existing ancestor. */
export async function realPathOf(p: string): Promise<string> {
  const abs = resolve(p);
  try {
    return await fsp.realpath(abs);
  } catch {
    const parent = dirname(abs);
    if (parent === abs) return abs;
    return join(await realPathOf(parent), basename(abs));
  }
}

/**
 * Why `maskPath` may not be written under `rule`, or null when it may: it must be in the image's
 * folder or inside a workspace folder (as real paths), unless the pattern is the user's own.
 */
export async function maskLocationProblem(maskPath: string, imagePath: string, pattern: string | undefined, rule: MaskLocationRule | undefined): Promise<string | null> {
  if (!rule || rule.patternFromUserSettings) return null;
  const folder = await realPathOf(dirname(maskPath));
  if (folder === (await realPathOf(dirname(imagePath)))) return null;
  for (const allowed of rule.allowedFolders) if (isInsideFolder(folder, await realPathOf(allowed))) return null;
  const origin = rule.patternOrigin ?? 'the workspace settings';
  return (
    `lesionLab.maskPattern "${pattern ?? ''}" from ${origin} puts the mask of ${basename(imagePath)} at ${maskPath}, ` +
    `outside the workspace folder and the image's folder; a workspace may only save masks inside itself ` +
    `(set the pattern in your user settings to allow this, or use Save As)`
  );
}

/**
 * Why the sidecar at `sidecarPath` may not be replaced, or null: an existing file is replaced
 * only when it is a Lesion Lab sidecar (its "format" field says so).
 */
export async function sidecarOverwriteProblem(sidecarPath: string): Promise<string | null> {
  let text: string;
  try {
    const st = await fsp.lstat(sidecarPath);
    if (!st.isFile()) return `${basename(sidecarPath)} already exists and is not a Lesion Lab sidecar (it is not a regular file)`;
    // Our sidecars are small; a big file is somebody else's.
    if (st.size > 16 * 1024 * 1024) return `${basename(sidecarPath)} already exists and is not a Lesion Lab sidecar (${st.size} bytes)`;
    text = await fsp.readFile(sidecarPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `${basename(sidecarPath)} cannot be checked before it is replaced (${errorText(err)})`;
  }
  let format: unknown;
  try {
    const parsed = JSON.parse(text) as unknown;
    format = parsed !== null && typeof parsed === 'object' ? (parsed as { format?: unknown }).format : undefined;
  } catch {
    return `${basename(sidecarPath)} already exists and is not a Lesion Lab sidecar (not JSON)`;
  }
  if (format !== SIDECAR_FORMAT) {
    return `${basename(sidecarPath)} already exists and is not a Lesion Lab sidecar (its "format" is ${JSON.stringify(format ?? null)}, not "${SIDECAR_FORMAT}")`;
  }
  return null;
}
