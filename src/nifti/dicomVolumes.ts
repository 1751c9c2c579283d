// Several volumes in one DICOM series (echoes, diffusion weightings, time points, repeats): two or
// more images at each slice position. They become the frames of a 4-D image when one attribute
// tells them apart the same way at every position, as dcm2niix splits such series; the frames are
// then ordered by that attribute (diffusion: by b-value, then as acquired).
import { numbers, str, type DicomDataSet } from './dicomParse';

/** The tags that can tell volumes apart, tried in this order. */
const T = {
  temporalPosition: 0x00200100,
  echoNumbers: 0x00180086,
  echoTime: 0x00180081,
  bValue: 0x00189087,
  gradientDirection: 0x00189089,
  siemensBValue: 0x0019100c,
  siemensDirection: 0x0019100e,
  geBValue: 0x00431039,
  triggerTime: 0x00181060,
  acquisitionNumber: 0x00200012,
  instanceNumber: 0x00200013,
} as const;

/** A plane as the splitter needs it: its file's data set. */
interface PlaneLike {
  file: { dicom: DicomDataSet };
}

/** The frames of a multi-volume series and what told them apart. */
export interface SeriesVolumes<P> {
  /** One list of planes per volume, each in the order of the given planes (along the normal). */
  volumes: P[][];
  /** The attribute that told them apart, for reports ("EchoTime"). */
  by: string;
  /** Each volume's value of it ("b=1000 (0, 0.71, 0.71)", "12.5"). */
  labels: string[];
}

/** An element's binary doubles (FD, or UN/OB holding FD), else its decimal strings. */
function doubles(ds: DicomDataSet, tag: number): number[] {
  const e = ds.elements.get(tag);
  if (!e) return [];
  if (e.vr === 'FD' || ((e.vr === 'UN' || e.vr === 'OB') && e.bytes.length > 0 && e.bytes.length % 8 === 0)) {
    const view = new DataView(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
    return Array.from({ length: e.bytes.length / 8 }, (_, i) => view.getFloat64(8 * i, ds.littleEndian));
  }
  return numbers(ds, tag).filter(Number.isFinite);
}

/** The diffusion weighting of an image: standard tags, else Siemens' or GE's private ones. */
function diffusionOf(ds: DicomDataSet): string | undefined {
  let b = doubles(ds, T.bValue)[0];
  let direction = doubles(ds, T.gradientDirection);
  if (b === undefined) {
    b = numbers(ds, T.siemensBValue)[0];
    if (b !== undefined) direction = doubles(ds, T.siemensDirection);
  }
  // GE stores the b-value plus 10^9 in some versions.
  if (b === undefined) b = numbers(ds, T.geBValue).map((v) => v % 1e9)[0];
  if (b === undefined || !Number.isFinite(b)) return undefined;
  return direction.length === 3 && b > 0 ? `b=${+b.toFixed(1)} (${direction.map((v) => +v.toFixed(3)).join(', ')})` : `b=${+b.toFixed(1)}`;
}

/** Candidate attributes: name, value of an image (undefined when absent), numeric order. */
const KEYS: { by: string; value: (ds: DicomDataSet) => string | undefined; numeric: boolean }[] = [
  { by: 'TemporalPositionIdentifier', value: (ds) => str(ds, T.temporalPosition) || undefined, numeric: true },
  { by: 'EchoNumbers', value: (ds) => str(ds, T.echoNumbers) || undefined, numeric: true },
  { by: 'EchoTime', value: (ds) => str(ds, T.echoTime) || undefined, numeric: true },
  { by: 'diffusion b-value and direction', value: diffusionOf, numeric: false },
  { by: 'TriggerTime', value: (ds) => str(ds, T.triggerTime) || undefined, numeric: true },
  { by: 'AcquisitionNumber', value: (ds) => str(ds, T.acquisitionNumber) || undefined, numeric: true },
];

/**
 * Splits planes sorted along the slice normal, `depth` their positions along it, into volumes.
 * Returns why not, as a clause, when the positions hold different numbers of images or no
 * attribute has, at every position, one image per value and the same values.
 */
export function splitVolumes<P extends PlaneLike>(planes: readonly P[], depth: readonly number[]): SeriesVolumes<P> | string {
  // Positions: runs of planes at one depth (within 1e-3 mm).
  const positions: P[][] = [];
  planes.forEach((p, k) => {
    if (k > 0 && Math.abs(depth[k] - depth[k - 1]) < 1e-3) positions[positions.length - 1].push(p);
    else positions.push([p]);
  });
  const counts = positions.map((at) => at.length);
  const count = Math.max(...counts);
  if (counts.some((c) => c !== count)) {
    return `but ${counts.filter((c) => c === count).length} of its ${counts.length} positions have ${count} images and the others fewer (a duplicate file, or an incomplete series of volumes)`;
  }
  for (const key of KEYS) {
    const values = positions.map((at) => at.map((p) => key.value(p.file.dicom)));
    const first = new Set(values[0]);
    if (first.size !== count || values[0].includes(undefined)) continue;
    if (!values.every((at) => at.every((v) => v !== undefined && first.has(v)) && new Set(at).size === count)) continue;
    const instance = (p: P): number => numbers(p.file.dicom, T.instanceNumber)[0] ?? 0;
    // Volumes in the attribute's numeric order, or (diffusion) by b-value then as first acquired.
    const firstInstance = new Map<string, number>();
    positions.forEach((at, k) => at.forEach((p, i) => firstInstance.set(values[k][i] as string, Math.min(firstInstance.get(values[k][i] as string) ?? Infinity, instance(p)))));
    const bOf = (label: string): number => Number(/^b=([\d.]+)/.exec(label)?.[1] ?? 0);
    const labels = [...first].map(String).sort((a, b) => (key.numeric ? Number(a) - Number(b) : bOf(a) - bOf(b)) || (firstInstance.get(a) ?? 0) - (firstInstance.get(b) ?? 0));
    const volumes = labels.map((label) => positions.map((at, k) => at[values[k].indexOf(label)]));
    return { volumes, by: key.by, labels };
  }
  return 'and no tag (temporal position, echo, diffusion weighting, trigger time, acquisition number) tells its volumes apart the same way at every position';
}
