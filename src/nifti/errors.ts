// Errors of the NIfTI layer. Every message is one sentence that starts with the file's base name.
import { basename } from 'node:path';
import { errorText } from '../util/errorText';

/**
 * A NIfTI file could not be read (or written): the message is one sentence starting with the
 * file's base name, e.g. `ct.nii.gz: image data is 131072 bytes but the header needs 264132`.
 */
export class NiftiReadError extends Error {
  /** Absolute or relative path of the offending file, as given by the caller. */
  readonly filePath: string;

  constructor(filePath: string, problem: string) {
    super(`${basename(filePath)}: ${problem}`);
    this.name = 'NiftiReadError';
    this.filePath = filePath;
  }
}

/** A NIfTI file could not be written (bad labels, wrong length, unwritable folder). */
export class NiftiWriteError extends Error {
  readonly filePath: string;

  constructor(filePath: string, problem: string) {
    super(`${basename(filePath)}: ${problem}`);
    this.name = 'NiftiWriteError';
    this.filePath = filePath;
  }
}

/** Why a file could not be read, as a phrase for a NiftiReadError ("the file does not exist"). */
export function fsProblem(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return 'the file does not exist';
  if (code === 'EISDIR') return 'this is a folder, not a file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied when reading the file';
  return `the file could not be read (${errorText(err)})`;
}
