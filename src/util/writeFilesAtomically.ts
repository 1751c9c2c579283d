// Atomic writes of several files that belong together (a mask and its sidecar): every new
// content is first written to a temporary file beside its target; only when all of them are on
// disk are they renamed into place. A failure leaves the old files (or no files) as they were
// and names the file that failed.
import { promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { errorText } from './errorText';

/** One file to write. */
export interface FileToWrite {
  path: string;
  /** Content; a string is written as UTF-8. */
  bytes: Uint8Array | string;
}

/** The file-system operations used (injectable so tests can simulate a full disk). */
export interface AtomicWriteFs {
  /** Creates `tempPath` (must not exist), writes `bytes` and flushes them to disk. */
  writeTemp(tempPath: string, bytes: Uint8Array | string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Hard link (used to keep the old content until every rename succeeded). */
  link(existing: string, newPath: string): Promise<void>;
  /** Removes a file; no error when it is missing. */
  remove(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Makes renames in `folder` durable where the platform allows it. */
  syncFolder(folder: string): Promise<void>;
}

/** The real operations (node:fs). */
export const nodeAtomicWriteFs: AtomicWriteFs = {
  async writeTemp(tempPath, bytes) {
    const handle = await fsp.open(tempPath, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => fsp.rename(from, to),
  link: (existing, newPath) => fsp.link(existing, newPath),
  remove: (path) => fsp.rm(path, { force: true }),
  async exists(path) {
    try {
      await fsp.lstat(path);
      return true;
    } catch {
      return false;
    }
  },
  async syncFolder(folder) {
    try {
      const handle = await fsp.open(folder, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch {
      // Folder fsync is unsupported on some platforms (Windows); the renames already happened.
    }
  },
};

/** A failed write of one of the files; `filePath` is that file, `code` the system error code. */
export class AtomicWriteError extends Error {
  constructor(
    message: string,
    readonly filePath: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'AtomicWriteError';
  }
}

function codeOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function tempPathFor(target: string, role: 'new' | 'old'): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.${role}.tmp`);
}

/**
 * Writes all `files` or none: the new contents go to temporary files (flushed with fsync); then
 * each target's old content is kept through a hard link and the temporary files are renamed over
 * the targets. When a rename fails, the targets already renamed get their old content back (or
 * are removed when they did not exist).
 *
 * @param files - distinct paths; their folders must exist.
 * @param fs - file-system operations (default: node:fs).
 * @throws AtomicWriteError naming the file that failed and the system error
 *   ("…/case_seg.json could not be written (ENOSPC: no space left on device, write); no file was changed").
 */
export async function writeFilesAtomically(files: readonly FileToWrite[], fs: AtomicWriteFs = nodeAtomicWriteFs): Promise<void> {
  const targets = files.map((f) => resolve(f.path));
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t)) throw new AtomicWriteError(`${t} is listed twice in one write`, t, undefined);
    seen.add(t);
  }
  const allNames = targets.map((t) => basename(t)).join(', ');
  const temps: string[] = [];
  const backups: (string | null)[] = [];
  const cleanUp = async () => {
    for (const p of [...temps, ...backups]) if (p) await fs.remove(p).catch(() => undefined);
  };

  // 1. Every new content on disk, beside its target.
  for (let n = 0; n < files.length; n++) {
    const temp = tempPathFor(targets[n], 'new');
    try {
      await fs.writeTemp(temp, files[n].bytes);
      temps.push(temp);
    } catch (err) {
      temps.push(temp); // may exist half-written
      await cleanUp();
      throw new AtomicWriteError(`${targets[n]} could not be written (${errorText(err)}); no file was changed (${allNames})`, targets[n], codeOf(err));
    }
  }

  // 2. Keep the old contents so a failed rename can be undone. Hard links cost no disk space;
  // where they are not supported that file cannot be rolled back, which is only reported.
  for (const t of targets) {
    let backup: string | null = null;
    if (await fs.exists(t)) {
      backup = tempPathFor(t, 'old');
      try {
        await fs.link(t, backup);
      } catch {
        backup = null;
      }
    }
    backups.push(backup);
  }
  const existedBefore = await Promise.all(targets.map((t, n) => (backups[n] ? Promise.resolve(true) : fs.exists(t))));

  // 3. Rename into place.
  for (let n = 0; n < targets.length; n++) {
    try {
      await fs.rename(temps[n], targets[n]);
    } catch (err) {
      const notRestored: string[] = [];
      for (let m = n - 1; m >= 0; m--) {
        try {
          const backup = backups[m];
          if (backup) {
            await fs.rename(backup, targets[m]);
            backups[m] = null;
          } else if (!existedBefore[m]) {
            await fs.remove(targets[m]);
          } else {
            notRestored.push(basename(targets[m]));
          }
        } catch {
          notRestored.push(basename(targets[m]));
        }
      }
      await cleanUp();
      const outcome = notRestored.length === 0 ? `no file was changed (${allNames})` : `${notRestored.join(', ')} already has the new content and could not be put back`;
      throw new AtomicWriteError(`${targets[n]} could not be written (${errorText(err)}); ${outcome}`, targets[n], codeOf(err));
    }
  }
  for (const b of backups) if (b) await fs.remove(b).catch(() => undefined);
  for (const folder of new Set(targets.map((t) => dirname(t)))) await fs.syncFolder(folder);
}
