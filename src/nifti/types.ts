// The in-memory form of a NIfTI image, kept as nibabel does: header, data and affine apart.
// This is the contract every other layer (volume, ml, editor) codes against.

/** Voxel data of one frame, i (x) fastest, then j (y), then k (z). */
export type VoxelArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

export type NiftiDatatypeName =
  | 'binary'
  | 'uint8'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64'
  | 'float128'
  | 'complex64'
  | 'complex128'
  | 'complex256'
  | 'rgb24'
  | 'rgba32';

export type AffineSource = 'sform' | 'qform' | 'pixdim';

/** Header fields as read (and validated), in NIfTI naming. */
export interface NiftiHeader {
  niftiVersion: 1 | 2;
  /**
   * What the header says the file is: a single-file NIfTI ('n+1'/'n+2'), a header/image pair
   * ('ni1'/'ni2'), or a legacy Analyze 7.5 header (no magic; read with SPM2's conventions as nibabel does).
   */
  format?: 'nifti-single' | 'nifti-pair' | 'analyze75';
  /** Analyze 7.5 only: the SPM 'origin' field (1-based voxel of the world origin), else undefined. */
  analyzeOrigin?: [number, number, number];
  littleEndian: boolean;
  /** dim[0..7] as stored. */
  dim: number[];
  /** pixdim[0..7] as stored; pixdim[0] is qfac. */
  pixdim: number[];
  datatypeCode: number;
  datatype: NiftiDatatypeName;
  bitpix: number;
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  xyztUnits: number;
  qformCode: number;
  sformCode: number;
  quaternB: number;
  quaternC: number;
  quaternD: number;
  qoffsetX: number;
  qoffsetY: number;
  qoffsetZ: number;
  /** srow_x, srow_y, srow_z (12 numbers, row-major). */
  srow: number[];
  intentCode: number;
  intentName: string;
  description: string;
  calMin: number;
  calMax: number;
  /** Raw header extensions (esize/ecode/edata) in file order. */
  extensions: { code: number; data: Uint8Array }[];
}

/** Where a DICOM series' slices came from: what a DICOM SEG of a mask on its grid must reference. */
export interface DicomReferences {
  studyUid: string;
  seriesUid: string;
  frameOfReferenceUid: string;
  /** The series' folder (absolute). */
  folder: string;
  /** One per slice k: the file (in `folder`), its SOP class and instance, and its frame (1-based) in a multi-frame file. */
  instances: { file: string; sopClassUid: string; sopInstanceUid: string; frame?: number }[];
}

export interface NiftiImage {
  /** The file the image came from (the .nii/.nii.gz, or the .hdr of a pair). */
  filePath: string;
  header: NiftiHeader;
  /** The file holding the voxel data (the .img of a pair, else filePath). */
  dataFilePath?: string;
  /** Full shape, dim[1..dim[0]]. */
  shape: number[];
  /** Spatial size of the loaded frame: [nx, ny, nz] (missing dims are 1). */
  dims: [number, number, number];
  /**
   * Voxel size along i, j, k: absolute pixdim[1..3] as nibabel's zooms (xyzt_units is NOT applied,
   * since the affine never applies it either and files with wrong units are common). Where a
   * pixdim is 0 or the axis lies beyond dim[0] (e.g. a 2-D image's k), the length of the
   * affine's column is used instead. Zero voxel sizes in the affine are refused on reading.
   */
  spacingMm: [number, number, number];
  /** Voxel (i, j, k) → world (RAS+, mm), row-major 4×4, as chosen by bestAffine(). */
  affine: Float64Array;
  affineSource: AffineSource;
  /** Number of frames (product of dim[4..]), and which one `data` holds. */
  frameCount: number;
  frame: number;
  /**
   * Values of the loaded frame with scl_slope/scl_inter applied. Integer types without scaling
   * keep their own typed array; scaled or float data is Float32Array (Float64Array for float64);
   * complex is magnitude; RGB is luminance (the colours are in `rgb`).
   */
  data: VoxelArray;
  /**
   * DICOM series only: which series, and how many files it was stacked from; for PET, the values'
   * unit (SUVbw, or the stored one) and how it was reached (dicomSuv.ts); whether its pixels were
   * compressed with loss; for a series of several
   * volumes (the frames), what told them apart and each one's value (dicomVolumes.ts).
   */
  dicom?: {
    seriesNumber: string;
    description: string;
    modality: string;
    files: number;
    pet?: { unit: string; note: string };
    volumes?: { by: string; labels: string[] };
    /** How the pixel data were compressed with loss (dicomParse.ts `lossyCompressionNote`), when they were. */
    lossy?: string;
    /** The instances each slice k came from (of the first volume), for a DICOM SEG of a mask on this grid. */
    references: DicomReferences;
  };
  /** RGB24/RGBA32 only: interleaved colour bytes of the loaded frame (3 or 4 per voxel). */
  rgb?: { channels: 3 | 4; bytes: Uint8Array };
}
