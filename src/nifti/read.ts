// readNifti: file(s) → validated NiftiImage. Single files (.nii, .nii.gz) and pairs
// (.hdr/.img, .hdr.gz/.img.gz), NIfTI-1/2 and Analyze 7.5; NRRD (.nrrd, .nhdr) through readNrrd,
// MetaImage (.mha, .mhd) through readMetaImage, FreeSurfer MGH (.mgh, .mgz) through readMgh;
// DICOM series (a folder, or one file of the series) through readDicomSeries; never a partial volume.
import { promises as fsp } from 'node:fs';
import { basename } from 'node:path';
import { affineColumnNorms, affineProblem, bestAffine } from './affine';
import { decodeFrame } from './decode';
import { isDicomPath, readDicomSeries } from './dicom';
import { fsProblem, NiftiReadError } from './errors';
import { gunzipPrefix, gunzipWhole, isGzip } from './gzip';
import { frameByteLength, headerCounts, looksLikeNiftiHeader, parseNiftiHeader } from './header';
import { convertedFormatOf } from './formats';
import { readMetaImage } from './metaImage';
import { readMgh } from './mgh';
import { readNrrd } from './nrrd';
import type { NiftiHeader, NiftiImage } from './types';

/** Options of {@link readNifti}. */
export interface ReadNiftiOptions {
  /** Which frame (index over dims 4..7, flattened, first dim fastest) to load. Default 0. */
  frame?: number;
}

/** Everything {@link readNifti} returns except the voxel values. */
export type NiftiHeaderInfo = Omit<NiftiImage, 'data' | 'rgb' | 'frame'>;

/** How many compressed bytes {@link readNiftiHeader} inflates: header and typical extensions. */
const HEADER_PREFIX_BYTES = 64 * 1024;

const PAIR_HEADER = /\.hdr(\.gz)?$/i;
const PAIR_IMAGE = /\.img(\.gz)?$/i;

/**
 * The content of one file, decompressed if it is gzip. Plain files are read piece by piece (only
 * the header and the requested frame), so one frame of a long 4-D series costs one frame of I/O.
 */
interface ByteSource {
  /** Bytes of content (decompressed size for .gz). */
  length: number;
  /** Whether `length` is the decompressed size of a .gz file (for messages). */
  decompressed: boolean;
  /** Exactly `length` bytes from `offset` (callers check the bounds first). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** True when a result of `read` may be kept as it is (it does not pin a much larger buffer). */
  ownsRead(bytes: Uint8Array): boolean;
}

function checkGzipName(filePath: string, start: Uint8Array): boolean {
  const namedGz = /\.gz$/i.test(filePath);
  const gz = isGzip(start);
  if (start.length === 0) throw new NiftiReadError(filePath, 'the file is empty (0 bytes)');
  // A mismatch is refused rather than guessed: it means the file was renamed or written wrongly.
  if (namedGz && !gz) {
    throw new NiftiReadError(
      filePath,
      looksLikeNiftiHeader(start)
        ? 'the name ends in .gz but the content is an uncompressed NIfTI file (rename it without .gz)'
        : 'the name ends in .gz but the content is neither gzip data nor a NIfTI header',
    );
  }
  if (!namedGz && gz) {
    throw new NiftiReadError(
      filePath,
      'the content is gzip-compressed but the name does not end in .gz (rename it to end in .gz)',
    );
  }
  return gz;
}

function wholeSource(bytes: Uint8Array, decompressed: boolean): ByteSource {
  return {
    length: bytes.length,
    decompressed,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
    // Keep a view only when it is most of the buffer, so one frame of a 4-D series does not pin it all.
    ownsRead: (part) => part.byteLength >= 0.75 * part.buffer.byteLength,
  };
}

/**
 * Opens a file as a ByteSource. A .gz is inflated whole (gzip has no random access); a plain
 * file stays on disk and is read on demand.
 */
async function openSource(filePath: string, prefixOnly = false): Promise<ByteSource> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(filePath, 'r');
    const stat = await handle.stat();
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const prefix = new Uint8Array(Math.min(stat.size, HEADER_PREFIX_BYTES));
    await readFully(handle, prefix, 0);
    if (checkGzipName(filePath, prefix)) {
      if (prefixOnly) return wholeSource(gunzipPrefix(prefix, filePath), true);
      const compressed = new Uint8Array(stat.size);
      compressed.set(prefix);
      await readFully(handle, compressed.subarray(prefix.length), prefix.length);
      return wholeSource(await gunzipWhole(compressed, filePath), true);
    }
    if (stat.size <= HEADER_PREFIX_BYTES) return wholeSource(prefix, false);
    const openHandle = handle;
    handle = undefined; // kept open for reads; closed by closeSource
    const source: ByteSource & { close(): Promise<void> } = {
      length: stat.size,
      decompressed: false,
      read: async (offset, length) => {
        if (offset + length <= prefix.length) return prefix.subarray(offset, offset + length);
        const out = new Uint8Array(length);
        try {
          await readFully(openHandle, out, offset);
        } catch (err) {
          throw new NiftiReadError(filePath, fsProblem(err));
        }
        return out;
      },
      ownsRead: (part) => part.buffer !== prefix.buffer || part.byteLength >= 0.75 * prefix.byteLength,
      close: () => openHandle.close(),
    };
    return source;
  } catch (err) {
    if (err instanceof NiftiReadError) throw err;
    throw new NiftiReadError(filePath, fsProblem(err));
  } finally {
    await handle?.close();
  }
}

async function closeSource(source: ByteSource): Promise<void> {
  const closable = source as ByteSource & { close?: () => Promise<void> };
  await closable.close?.().catch(() => undefined);
}

/** Reads exactly `target.length` bytes at `position` (fs reads may return fewer). */
async function readFully(handle: fsp.FileHandle, target: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

/** Header bytes of a source: the prefix, or everything up to vox_offset when extensions run past it. */
async function parseSourceHeader(source: ByteSource, filePath: string): Promise<NiftiHeader> {
  let bytes = await source.read(0, Math.min(source.length, HEADER_PREFIX_BYTES));
  let header = await parseNiftiHeader(bytes, filePath);
  if (header.format === 'nifti-single' && header.voxOffset > bytes.length && header.voxOffset <= source.length) {
    bytes = await source.read(0, header.voxOffset);
    header = await parseNiftiHeader(bytes, filePath);
  }
  return header;
}

/** The .hdr (or .hdr.gz) a path names, when given the .img of a pair. */
function headerPathOf(filePath: string): string {
  const m = PAIR_IMAGE.exec(filePath);
  if (!m) return filePath;
  const isUpper = filePath.slice(m.index + 1, m.index + 4) === 'IMG';
  return filePath.slice(0, m.index) + (isUpper ? '.HDR' : '.hdr') + (m[1] ?? '');
}

/** Finds the image file of a pair: same stem, .img (.img.gz when the header is gzipped), either case. */
async function imagePathOf(headerPath: string): Promise<string> {
  const m = PAIR_HEADER.exec(headerPath);
  const stem = m ? headerPath.slice(0, m.index) : headerPath.replace(/\.[^./\\]*$/, '');
  const gz = Boolean(m?.[1]);
  const candidates = gz
    ? [`${stem}.img.gz`, `${stem}.IMG.gz`, `${stem}.img`, `${stem}.IMG`]
    : [`${stem}.img`, `${stem}.IMG`, `${stem}.img.gz`, `${stem}.IMG.gz`];
  for (const candidate of candidates) {
    try {
      const stat = await fsp.stat(candidate);
      if (stat.isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  throw new NiftiReadError(
    headerPath,
    `this header belongs to a pair but its image file ${basename(candidates[0])} is missing`,
  );
}

/** Geometry that follows from the header alone; refuses unusable affines. */
function geometryOf(
  header: NiftiHeader,
  filePath: string,
): Pick<NiftiImage, 'shape' | 'dims' | 'spacingMm' | 'affine' | 'affineSource' | 'frameCount'> {
  const ndim = header.dim[0];
  const shape = header.dim.slice(1, ndim + 1);
  const dims: [number, number, number] = [1, 2, 3].map((d) => (d <= ndim ? header.dim[d] : 1)) as [
    number,
    number,
    number,
  ];
  const { affine, source } = bestAffine(header);
  const problem = affineProblem(affine, source);
  if (problem) throw new NiftiReadError(filePath, problem);
  const norms = affineColumnNorms(affine);
  const spacingMm = [0, 1, 2].map((i) => {
    const p = Math.abs(header.pixdim[i + 1]);
    return i < ndim && p > 0 && Number.isFinite(p) ? p : norms[i];
  }) as [number, number, number];
  return { shape, dims, spacingMm, affine, affineSource: source, frameCount: headerCounts(header).frameCount };
}

function validateOptions(options: unknown, filePath: string): { frame: number } {
  if (options === undefined) return { frame: 0 };
  if (typeof options !== 'object' || options === null) {
    throw new NiftiReadError(filePath, `the options must be an object, not ${String(options)}`);
  }
  const frame = (options as ReadNiftiOptions).frame ?? 0;
  if (typeof frame !== 'number' || !Number.isInteger(frame) || frame < 0) {
    throw new NiftiReadError(filePath, `option frame is ${String(frame)} but must be a whole number of at least 0`);
  }
  return { frame };
}

/**
 * Reads and validates a NIfTI image and loads one frame of it.
 *
 * Accepts `.nii`, `.nii.gz`, `.hdr`/`.img` and `.hdr.gz`/`.img.gz` pairs (either file of a pair
 * may be named), NIfTI-1 and NIfTI-2 in both byte orders, and Analyze 7.5 pairs. The affine is
 * sform, else qform, else pixdim ({@link bestAffine}); values are scaled by scl_slope/scl_inter
 * when the slope is finite and non-zero.
 *
 * @param filePath - the image file.
 * @param options - `frame` (default 0): which 3-D frame of a 4-D/5-D image to load.
 * @returns the image; `data` holds only the requested frame.
 * @throws NiftiReadError, one sentence starting with the file's base name, for any file that is
 *   not a complete, consistent image (nothing partial is ever returned).
 * @example
 * const image = await readNifti('flair.nii.gz');
 * console.log(image.dims, image.affine);
 */
export async function readNifti(filePath: string, options?: ReadNiftiOptions): Promise<NiftiImage> {
  const { frame } = validateOptions(options, filePath);
  switch (convertedFormatOf(filePath)) {
    case 'NRRD':
      return readNrrd(filePath, { frame });
    case 'MetaImage':
      return readMetaImage(filePath, { frame });
    case 'MGH':
      return readMgh(filePath, { frame });
  }
  if (await isDicomPath(filePath)) return readDicomSeries(filePath, frame);
  const headerPath = headerPathOf(filePath);
  const headerSource = await openSource(headerPath);
  let dataSource = headerSource;
  try {
    const header = await parseSourceHeader(headerSource, headerPath);
    const geometry = geometryOf(header, headerPath);
    let dataFilePath = headerPath;
    if (header.format !== 'nifti-single') {
      dataFilePath = await imagePathOf(headerPath);
      dataSource = await openSource(dataFilePath);
    }

    const { frameVoxels, frameCount } = headerCounts(header);
    if (frame >= frameCount) {
      throw new NiftiReadError(
        headerPath,
        `option frame is ${frame} but the image has ${frameCount} frame${frameCount === 1 ? '' : 's'} (0 to ${frameCount - 1})`,
      );
    }
    const frameBytes = frameByteLength(header, frameVoxels);
    const neededBytes =
      header.datatypeCode === 1 ? Math.ceil((frameVoxels * frameCount) / 8) : frameBytes * frameCount;
    const available = Math.max(0, dataSource.length - header.voxOffset);
    if (available < neededBytes) {
      const where = dataFilePath === headerPath ? 'the file' : basename(dataFilePath);
      const size = dataSource.decompressed ? 'decompressed size' : 'size';
      throw new NiftiReadError(
        headerPath,
        header.voxOffset > dataSource.length
          ? `vox_offset is ${header.voxOffset} but ${where} has a ${size} of only ${dataSource.length} bytes, so the header's ${neededBytes} bytes of image data are missing`
          : `image data is ${available} bytes but the header needs ${neededBytes}`,
      );
    }

    let raw: Uint8Array;
    let bitStart = 0;
    if (header.datatypeCode === 1) {
      const firstBit = frame * frameVoxels;
      bitStart = firstBit & 7;
      raw = await dataSource.read(header.voxOffset + (firstBit >> 3), Math.ceil((bitStart + frameVoxels) / 8));
    } else {
      raw = await dataSource.read(header.voxOffset + frame * frameBytes, frameBytes);
    }
    const decoded = decodeFrame(
      raw,
      header.datatype,
      header.littleEndian,
      frameVoxels,
      header.sclSlope,
      header.sclInter,
      dataSource.ownsRead(raw),
      bitStart,
    );
    const image: NiftiImage = {
      filePath: headerPath,
      dataFilePath,
      header,
      ...geometry,
      frameCount,
      frame,
      data: decoded.data,
    };
    if (decoded.rgb) image.rgb = decoded.rgb;
    return image;
  } finally {
    await closeSource(headerSource);
    if (dataSource !== headerSource) await closeSource(dataSource);
  }
}

/**
 * Reads and validates only the header (and geometry) of a NIfTI file, inflating just the start of
 * a .gz. Does not check that the image data is complete; {@link readNifti} does.
 *
 * @throws NiftiReadError as {@link readNifti} for header and geometry problems.
 */
export async function readNiftiHeader(filePath: string): Promise<NiftiHeaderInfo> {
  if (convertedFormatOf(filePath) !== null || (await isDicomPath(filePath))) {
    // Another format's header or one DICOM file does not give the whole validation; the volume is read and dropped.
    const { data: _data, rgb: _rgb, frame: _frame, ...info } = await readNifti(filePath);
    return info;
  }
  const headerPath = headerPathOf(filePath);
  const source = await openSource(headerPath, true);
  try {
    const header = await parseSourceHeader(source, headerPath);
    const geometry = geometryOf(header, headerPath);
    const dataFilePath = header.format === 'nifti-single' ? headerPath : await imagePathOf(headerPath);
    return { filePath: headerPath, dataFilePath, header, ...geometry };
  } finally {
    await closeSource(source);
  }
}
