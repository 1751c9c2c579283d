// The provenance sidecar written next to every saved mask (`<name>_seg.json`), and the ITK-SNAP
// label description export. Pure: builds and parses text; the caller does the I/O.

import type { LabelTableEntry } from '../protocol/messages';
import { validateLabelTable } from '../protocol/validate';

/** Identifies our sidecar files. */
export const SIDECAR_FORMAT = 'lesion-lab-mask-sidecar';
export const SIDECAR_VERSION = 1;

/** One label's row in the sidecar: the table entry plus its measured size. */
export interface SidecarLabel extends LabelTableEntry {
  voxelCount: number;
  volumeMm3: number;
}

/** The sidecar's content (JSON). */
export interface MaskSidecar {
  format: typeof SIDECAR_FORMAT;
  version: number;
  image: { file: string; sha256: string };
  mask: { file: string; dims: [number, number, number]; datatype: 'uint8' | 'uint16' };
  /** Every label of the table, and any value present in the mask but missing from the table. */
  labels: SidecarLabel[];
  provenance: {
    /** Model version that proposed the mask (set by Segment Lesion), or null if drawn by hand. */
    modelVersion: string | null;
    /** Distinct voxels changed by hand since that proposal (or in total when there is none). */
    handEditedVoxels: number;
  };
  /** True once a person saved the mask in the editor. */
  reviewed: boolean;
  /** ISO 8601 time of the save. */
  savedAt: string;
}

/** Inputs of {@link buildSidecar}. */
export interface SidecarInput {
  imageFile: string;
  imageSha256: string;
  maskFile: string;
  dims: [number, number, number];
  bits: 8 | 16;
  /** Voxel volume in mm³ (|det| of the affine's 3×3). */
  voxelVolumeMm3: number;
  labelTable: readonly LabelTableEntry[];
  /** Voxel count per label value (0 may be included; it is not listed). */
  voxelCounts: ReadonlyMap<number, number>;
  modelVersion: string | null;
  handEditedVoxels: number;
  reviewed: boolean;
  savedAt: Date;
}

/** Builds the sidecar object. Labels are sorted by value; volumes rounded to 0.001 mm³. */
export function buildSidecar(input: SidecarInput): MaskSidecar {
  const rows = new Map<number, LabelTableEntry>();
  for (const e of input.labelTable) if (e.value !== 0) rows.set(e.value, e);
  for (const [v] of input.voxelCounts) {
    if (v !== 0 && !rows.has(v)) rows.set(v, { value: v, name: `Label ${v}`, color: [128, 128, 128], visible: true, locked: false });
  }
  const labels = [...rows.values()]
    .sort((a, b) => a.value - b.value)
    .map((e): SidecarLabel => {
      const voxelCount = input.voxelCounts.get(e.value) ?? 0;
      return {
        value: e.value,
        name: e.name,
        color: [e.color[0], e.color[1], e.color[2]],
        visible: e.visible,
        locked: e.locked,
        voxelCount,
        volumeMm3: Math.round(voxelCount * input.voxelVolumeMm3 * 1000) / 1000,
      };
    });
  return {
    format: SIDECAR_FORMAT,
    version: SIDECAR_VERSION,
    image: { file: input.imageFile, sha256: input.imageSha256 },
    mask: { file: input.maskFile, dims: [...input.dims], datatype: input.bits === 16 ? 'uint16' : 'uint8' },
    labels,
    provenance: { modelVersion: input.modelVersion, handEditedVoxels: input.handEditedVoxels },
    reviewed: input.reviewed,
    savedAt: input.savedAt.toISOString(),
  };
}

/** The sidecar as file text (2-space JSON, trailing newline). */
export function sidecarToText(sidecar: MaskSidecar): string {
  return JSON.stringify(sidecar, null, 2) + '\n';
}

/** What an existing sidecar tells the editor when a mask is opened. */
export interface ParsedSidecar {
  labelTable: LabelTableEntry[];
  modelVersion: string | null;
  handEditedVoxels: number;
  reviewed: boolean;
  imageSha256: string | null;
}

/**
 * Reads a sidecar's text. Unknown fields are ignored (forward compatible).
 * @param fileName - named in error messages.
 * @throws Error with one sentence naming the file and the problem (bad JSON, wrong format, bad label table).
 */
export function parseSidecar(text: string, fileName: string): ParsedSidecar {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${fileName}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${fileName}: expected a JSON object`);
  const obj = raw as Record<string, unknown>;
  if (obj.format !== SIDECAR_FORMAT) throw new Error(`${fileName}: not a Lesion Lab sidecar (format is ${JSON.stringify(obj.format)}, expected "${SIDECAR_FORMAT}")`);
  const labelsRaw = Array.isArray(obj.labels) ? obj.labels : [];
  let labelTable: LabelTableEntry[];
  try {
    labelTable = validateLabelTable(labelsRaw, 'labels');
  } catch (err) {
    throw new Error(`${fileName}: ${(err as Error).message}`, { cause: err });
  }
  const prov = (obj.provenance ?? {}) as Record<string, unknown>;
  const modelVersion = typeof prov.modelVersion === 'string' ? prov.modelVersion : null;
  const hand = typeof prov.handEditedVoxels === 'number' && Number.isInteger(prov.handEditedVoxels) && prov.handEditedVoxels >= 0 ? prov.handEditedVoxels : 0;
  const image = (obj.image ?? {}) as Record<string, unknown>;
  return {
    labelTable,
    modelVersion,
    handEditedVoxels: hand,
    reviewed: obj.reviewed === true,
    imageSha256: typeof image.sha256 === 'string' ? image.sha256 : null,
  };
}

function quoteItkLabel(name: string): string {
  // ITK-SNAP reads the label between double quotes; it has no escape, so drop quotes and newlines.
  return `"${name.replace(/["\r\n]/g, ' ')}"`;
}

/**
 * The label table as an ITK-SNAP label description file (the format of ITK-SNAP's
 * "Export label descriptions"): one line per label, `IDX R G B A VIS MSH "LABEL"`, with the
 * clear label 0 first.
 * @param opacity - the A column, 0…1 (ITK-SNAP's label opacity).
 */
export function itkSnapLabelFile(table: readonly LabelTableEntry[], opacity = 1): string {
  const lines = [
    '################################################',
    '# ITK-SnAP Label Description File',
    '# File format: ',
    '# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL',
    '# Fields: ',
    '#    IDX:   Zero-based index ',
    '#    -R-:   Red color component (0..255)',
    '#    -G-:   Green color component (0..255)',
    '#    -B-:   Blue color component (0..255)',
    '#    -A-:   Label transparency (0.00 .. 1.00)',
    '#    VIS:   Label visibility (0 or 1)',
    '#    IDX:   Label mesh visibility (0 or 1)',
    '#  LABEL:   Label description ',
    '################################################',
  ];
  const row = (v: number, c: readonly number[], a: number, vis: boolean, name: string) =>
    `${String(v).padStart(5)} ${String(c[0]).padStart(5)} ${String(c[1]).padStart(4)} ${String(c[2]).padStart(4)} ${String(a).padStart(8)} ${vis ? 1 : 0} ${vis ? 1 : 0}    ${quoteItkLabel(name)}`;
  const sorted = [...table].sort((a, b) => a.value - b.value);
  if (!sorted.some((e) => e.value === 0)) lines.push(row(0, [0, 0, 0], 0, false, 'Clear Label'));
  for (const e of sorted) lines.push(row(e.value, e.color, e.value === 0 ? 0 : opacity, e.value === 0 ? false : e.visible, e.name));
  return lines.join('\n') + '\n';
}

/**
 * Parses an ITK-SNAP label description file into a label table (value 0 dropped).
 * @throws Error naming the file and the first bad line.
 */
export function parseItkSnapLabelFile(text: string, fileName: string): LabelTableEntry[] {
  const out: LabelTableEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.eE+-]+)\s+(\d)\s+(\d)\s+"(.*)"\s*$/.exec(line);
    if (!m) throw new Error(`${fileName}: line ${n + 1} is not "IDX R G B A VIS MSH \\"LABEL\\""`);
    const value = Number(m[1]);
    if (value === 0) continue;
    out.push({ value, name: m[8], color: [Number(m[2]), Number(m[3]), Number(m[4])], visible: m[6] === '1', locked: false });
  }
  return validateLabelTable(out, fileName);
}
