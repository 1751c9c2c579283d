// The hot-exit backup of a label session: labels (gzip), label table, provenance, mask status.

import { gunzipSync, gzipSync } from 'node:zlib';
import { labelBitsOf, type LabelArray } from '../protocol/labelDelta';
import type { LabelTableEntry } from '../protocol/messages';
import type { MaskInfo } from './maskLoading';
import { validateLabelTable } from '../protocol/validate';
import type { PriorProvenance } from './labelModel';
import type { FileStamp } from './maskFiles';
import { errorText } from '../util/errorText';

const BACKUP_MAGIC = 'LLBK1\n';

/** The JSON header of a backup. */
export interface BackupHeader {
  version: 1;
  imagePath: string;
  maskPath: string;
  mask: MaskInfo;
  readOnly: boolean;
  readOnlyReason: string | null;
  bits: 8 | 16;
  voxelCount: number;
  labelTable: LabelTableEntry[];
  prior: PriorProvenance;
  /** The mask file as last read or saved (null: it did not exist); absent in older backups. */
  maskStamp?: FileStamp | null;
}

/**
 * Serialises what hot exit must restore: labels (gzip), label table, provenance, mask status.
 * Format: "LLBK1\n", uint32 LE JSON length, JSON header, gzip of the label bytes (LE).
 */
export function encodeBackup(state: Omit<BackupHeader, 'version' | 'bits' | 'voxelCount'>, labels: LabelArray): Uint8Array {
  const header: BackupHeader = { version: 1, ...state, bits: labelBitsOf(labels), voxelCount: labels.length };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  // Labels are written little-endian; on a big-endian host Uint16Array bytes would need a swap.
  const body = gzipSync(new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength), { level: 1 });
  const out = new Uint8Array(BACKUP_MAGIC.length + 4 + json.length + body.length);
  out.set(Buffer.from(BACKUP_MAGIC, 'latin1'), 0);
  new DataView(out.buffer).setUint32(BACKUP_MAGIC.length, json.length, true);
  out.set(json, BACKUP_MAGIC.length + 4);
  out.set(body, BACKUP_MAGIC.length + 4 + json.length);
  return out;
}

/**
 * Reads a backup written by {@link encodeBackup}.
 * @param imageName the image's file name, named in the errors.
 * @throws Error naming the backup when it is corrupt.
 */
export function decodeBackup(backup: Uint8Array, imageName: string): { header: BackupHeader; table: LabelTableEntry[]; labels: LabelArray } {
  const magic = Buffer.from(backup.subarray(0, BACKUP_MAGIC.length)).toString('latin1');
  if (magic !== BACKUP_MAGIC || backup.length < BACKUP_MAGIC.length + 4) throw new Error(`the backup of ${imageName} is not a Lesion Lab backup`);
  const jsonLength = new DataView(backup.buffer, backup.byteOffset).getUint32(BACKUP_MAGIC.length, true);
  const jsonStart = BACKUP_MAGIC.length + 4;
  if (jsonStart + jsonLength > backup.length) throw new Error(`the backup of ${imageName} is truncated`);
  let header: BackupHeader;
  try {
    header = JSON.parse(Buffer.from(backup.subarray(jsonStart, jsonStart + jsonLength)).toString('utf8')) as BackupHeader;
  } catch (err) {
    throw new Error(`the backup of ${imageName} is corrupt (${errorText(err)})`, { cause: err });
  }
  if (header.version !== 1 || (header.bits !== 8 && header.bits !== 16)) throw new Error(`the backup of ${imageName} has an unknown version`);
  const table = validateLabelTable(header.labelTable, `the backup of ${imageName}`);
  const raw = gunzipSync(backup.subarray(jsonStart + jsonLength));
  const bytesPerVoxel = header.bits / 8;
  if (raw.length !== header.voxelCount * bytesPerVoxel) throw new Error(`the backup of ${imageName} is truncated (labels incomplete)`);
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  const labels: LabelArray = header.bits === 16 ? new Uint16Array(copy.buffer) : copy;
  return { header, table, labels };
}
