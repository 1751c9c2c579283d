// parseNiftiHeader field by field on built headers (NIfTI-1 both byte orders, NIfTI-2, Analyze),
// plus the datatype table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNiftiHeader } from '../../src/nifti/header';
import { NIFTI_DATATYPES, datatypeByCode, datatypeByName } from '../../src/nifti';
import { buildNifti, type BuildOptions } from './buildNifti';

const fields: BuildOptions = {
  dim: [5, 6, 7, 2],
  datatype: 512,
  bitpix: 16,
  pixdim: [-1, 1.5, 2.5, 3.5, 2, 0, 0, 0],
  sclSlope: 0.25,
  sclInter: -3,
  qformCode: 1,
  sformCode: 4,
  quatern: [0.5, -0.5, 0.5],
  qoffset: [-10.5, 20.25, 30],
  srow: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  xyztUnits: 10,
  intentCode: 1002,
  description: 'made by a test',
  data: new Uint8Array(5 * 6 * 7 * 2 * 2),
};

describe('parseNiftiHeader', () => {
  for (const version of [1, 2] as const) {
    for (const littleEndian of [true, false]) {
      it(`NIfTI-${version} ${littleEndian ? 'little' : 'big'}-endian: every field`, async () => {
        const { file } = buildNifti({ ...fields, version, littleEndian });
        const h = await parseNiftiHeader(file, 'x.nii');
        assert.equal(h.niftiVersion, version);
        assert.equal(h.format, 'nifti-single');
        assert.equal(h.littleEndian, littleEndian);
        assert.deepEqual(h.dim, [4, 5, 6, 7, 2, 1, 1, 1]);
        assert.deepEqual(h.pixdim, [-1, 1.5, 2.5, 3.5, 2, 0, 0, 0]);
        assert.equal(h.datatype, 'uint16');
        assert.equal(h.bitpix, 16);
        assert.equal(h.voxOffset, version === 1 ? 352 : 544);
        assert.equal(h.sclSlope, 0.25);
        assert.equal(h.sclInter, -3);
        assert.equal(h.qformCode, 1);
        assert.equal(h.sformCode, 4);
        assert.deepEqual([h.quaternB, h.quaternC, h.quaternD], [0.5, -0.5, 0.5]);
        assert.deepEqual([h.qoffsetX, h.qoffsetY, h.qoffsetZ], [-10.5, 20.25, 30]);
        assert.deepEqual(h.srow, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        assert.equal(h.xyztUnits, 10);
        assert.equal(h.intentCode, 1002);
        assert.equal(h.description, 'made by a test');
        assert.deepEqual(h.extensions, []);
      });
    }
  }

  it('recognises pairs and Analyze headers', async () => {
    const pair = buildNifti({ ...fields, layout: 'pair' });
    assert.equal((await parseNiftiHeader(pair.header, 'p.hdr')).format, 'nifti-pair');
    const analyze = buildNifti({ ...fields, version: 'analyze', analyzeOrigin: [3, 4, 5] });
    const h = await parseNiftiHeader(analyze.header, 'a.hdr');
    assert.equal(h.format, 'analyze75');
    assert.deepEqual(h.analyzeOrigin, [3, 4, 5]);
    assert.equal(h.sformCode, 0);
    assert.equal(h.qformCode, 0);
  });

  it('refuses short and foreign headers', async () => {
    await assert.rejects(parseNiftiHeader(new Uint8Array([1, 2]), 'a.nii'), /^NiftiReadError: a\.nii: the file is only 2 bytes, too short for a NIfTI header$/);
    const { file } = buildNifti(fields);
    await assert.rejects(parseNiftiHeader(file.subarray(0, 300), 'b.nii'), /b\.nii: the file is 300 bytes, too short for a NIfTI-1 header of 348 bytes/);
    const v2 = buildNifti({ ...fields, version: 2 }).file.slice();
    v2[5] = 0x58;
    await assert.rejects(parseNiftiHeader(v2, 'c.nii'), /c\.nii: the NIfTI-2 magic is 'nX2\\x00', expected 'n\+2' or 'ni2'/);
  });
});

describe('datatype table', () => {
  it('maps code ↔ name ↔ bitpix both ways for all 17 standard types', () => {
    assert.equal(NIFTI_DATATYPES.length, 17);
    for (const d of NIFTI_DATATYPES) {
      assert.equal(datatypeByCode(d.code)?.name, d.name);
      assert.equal(datatypeByName(d.name).code, d.code);
    }
    assert.equal(datatypeByCode(9999), undefined);
    assert.equal(datatypeByName('rgb24').bitpix, 24);
  });
});
