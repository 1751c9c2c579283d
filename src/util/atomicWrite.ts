// Atomic file writes: a reader never sees a half-written file, and a failed write leaves the
// old file (if any) untouched.
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes `bytes` to `filePath` atomically: the data goes to a temporary file in the same folder
 * (so the rename cannot cross file systems), is flushed to disk with fsync, and is then renamed
 * over the target. On any failure the temporary file is removed and the error is rethrown.
 *
 * @param filePath - destination path; its folder must exist.
 * @param bytes - file content; a string is written as UTF-8.
 * @throws the underlying file-system error (the target is left as it was).
 */
export async function writeFileAtomic(filePath: string, bytes: Uint8Array | string): Promise<void> {
  const tempPath = join(
    dirname(filePath),
    `.${basename(filePath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tempPath, 'wx', 0o644);
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tempPath, filePath);
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    await fsp.rm(tempPath, { force: true }).catch(() => undefined);
    throw err;
  }
  // Make the rename itself durable where the platform allows fsync on a directory.
  try {
    const dirHandle = await fsp.open(dirname(filePath), 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch {
    // Directory fsync is unsupported on some platforms (e.g. Windows); the rename already happened.
  }
}
