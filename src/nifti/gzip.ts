// gzip handling with Node's zlib: every member of a multi-member stream, CRC checked, and zlib's
// terse error codes turned into sentences.
import { gunzip, gunzipSync, inflate, constants as zlibConstants, type ZlibOptions } from 'node:zlib';
import { NiftiReadError } from './errors';
import { errorText } from '../util/errorText';

/** Output chunk size for zlib when the gzip trailer cannot size the output: large chunks are faster. */
const INFLATE_CHUNK_BYTES = 1 << 20;
/** Deflate cannot expand data more than about 1032:1, so a larger ISIZE is not believed. */
const MAX_DEFLATE_RATIO = 1032;
/** Largest single output chunk we are willing to allocate up front. */
const MAX_SINGLE_CHUNK_BYTES = 2 ** 31 - 1;

/** A plain Uint8Array view of a Node Buffer (no copy). */
export function bytesOf(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer as ArrayBuffer, buffer.byteOffset, buffer.byteLength);
}

/** True when `bytes` starts with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * zlib output chunk size for a gzip file. The ISIZE trailer (uncompressed size mod 2^32 of the
 * last member) lets zlib inflate straight into one buffer of the right size, which saves
 * concatenating chunks (a full extra copy of the volume). When ISIZE is implausible (truncated
 * file, multi-member stream, > 4 GiB) the result is still correct, just assembled from chunks.
 */
function outputChunkBytes(compressed: Uint8Array): number {
  if (compressed.length < 18) return INFLATE_CHUNK_BYTES;
  const tail = compressed.length - 4;
  const isize =
    (compressed[tail] | (compressed[tail + 1] << 8) | (compressed[tail + 2] << 16) | (compressed[tail + 3] << 24)) >>> 0;
  const plausible = isize > 0 && isize <= compressed.length * MAX_DEFLATE_RATIO && isize < MAX_SINGLE_CHUNK_BYTES - 64;
  // +64: zlib must see free output space after the last byte, or it allocates one more chunk.
  return plausible ? Math.max(isize + 64, INFLATE_CHUNK_BYTES) : INFLATE_CHUNK_BYTES;
}

/**
 * Decompresses a whole gzip file (all members), verifying each member's CRC-32 and length. Runs
 * on Node's thread pool, so the event loop (e.g. the extension host) stays responsive.
 *
 * @throws NiftiReadError naming the file: truncated stream, bad checksum, trailing garbage, too large.
 */
export function gunzipWhole(compressed: Uint8Array, filePath: string): Promise<Uint8Array> {
  const options: ZlibOptions = { chunkSize: outputChunkBytes(compressed) };
  return new Promise((resolve, reject) => {
    try {
      gunzip(compressed, options, (err, result) => {
        if (err) reject(new NiftiReadError(filePath, describeZlibError(err, compressed.length)));
        else resolve(bytesOf(result));
      });
    } catch (err) {
      reject(new NiftiReadError(filePath, describeZlibError(err, compressed.length)));
    }
  });
}

/**
 * Decompresses one zlib (RFC 1950) stream, as MetaImage files hold, checking its Adler-32;
 * `expectedBytes` sizes the output buffer (the result's length is the caller's to check).
 *
 * @throws NiftiReadError naming the file: truncated stream, bad checksum, not zlib data.
 */
export function inflateWhole(compressed: Uint8Array, filePath: string, expectedBytes: number): Promise<Uint8Array> {
  const chunkSize = expectedBytes > 0 && expectedBytes < MAX_SINGLE_CHUNK_BYTES - 64 ? Math.max(expectedBytes + 64, 64 * 1024) : INFLATE_CHUNK_BYTES;
  return new Promise((resolve, reject) => {
    try {
      inflate(compressed, { chunkSize }, (err, result) => {
        if (err) reject(new NiftiReadError(filePath, describeZlibError(err, compressed.length, 'zlib')));
        else resolve(bytesOf(result));
      });
    } catch (err) {
      reject(new NiftiReadError(filePath, describeZlibError(err, compressed.length, 'zlib')));
    }
  });
}

/**
 * Decompresses as much of a (possibly partial) gzip prefix as it holds, for header-only reads.
 */
export function gunzipPrefix(compressedPrefix: Uint8Array, filePath: string): Uint8Array {
  try {
    return bytesOf(gunzipSync(compressedPrefix, { finishFlush: zlibConstants.Z_SYNC_FLUSH }));
  } catch (err) {
    throw new NiftiReadError(filePath, describeZlibError(err, compressedPrefix.length));
  }
}

function describeZlibError(err: unknown, compressedBytes: number, format: 'gzip' | 'zlib' = 'gzip'): string {
  if (err instanceof RangeError) {
    return `the decompressed data is larger than this program can hold in memory (${err.message})`;
  }
  const message = errorText(err);
  const code = (err as { code?: string }).code;
  if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(message)) {
    return `the ${format} data ends early, so the file is truncated or incomplete (${compressedBytes} bytes)`;
  }
  if (/incorrect data check/i.test(message)) {
    return `the ${format} checksum (${format === 'gzip' ? 'CRC-32' : 'Adler-32'}) does not match the data, so the file is damaged`;
  }
  if (/incorrect length check/i.test(message)) {
    return 'the gzip length field does not match the data, so the file is damaged';
  }
  if (/incorrect header check/i.test(message)) {
    if (format === 'zlib') return 'the compressed data do not start like zlib data, so they are damaged or not compressed';
    return 'the gzip data is followed by bytes that are not gzip (trailing garbage or a damaged second member)';
  }
  return `the ${format} data is damaged (zlib says: ${message})`;
}
