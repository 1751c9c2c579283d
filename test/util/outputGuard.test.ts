import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOutputPaths, isLesionLabNifti, OutputPathError, type GuardedOutput } from '../../src/util/outputGuard';
import { buildNifti, gzip } from '../nifti/buildNifti';
import { tempDir } from '../helpers/tempDir';

/** A 2×2×2 uint8 NIfTI-1 with the given header description. */
function nifti(description: string, gzipped = true): Uint8Array {
  const { file } = buildNifti({ dim: [2, 2, 2], datatype: 2, bitpix: 8, data: new Uint8Array(8), description });
  return gzipped ? gzip(file) : file;
}

function workspace(): { dir: string; image: string } {
  const dir = tempDir('ll-guard-');
  const image = join(dir, 'ct.nii.gz');
  writeFileSync(image, nifti('scanner image'));
  return { dir, image };
}

const nii = (role: string, path: string): GuardedOutput => ({ role, path, kind: 'nifti' });

async function refused(promise: Promise<unknown>, want: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof OutputPathError, `expected an OutputPathError, got ${String(e)}`);
    assert.match(e.message, want);
    assert.equal(e.message.split('\n').length, 1);
    return true;
  });
}

test('checkOutputPaths: an output that resolves to an input is refused (same path, ../, symlink, hard link)', async () => {
  const { dir, image } = workspace();
  const inputs = [{ role: 'the input image', path: image }];
  mkdirSync(join(dir, 'sub'));
  symlinkSync(image, join(dir, 'link.nii.gz'));
  linkSync(image, join(dir, 'hard.nii.gz'));
  for (const [role, path] of [
    ['--out', image],
    ['--prob', `${dir}/sub/../ct.nii.gz`],
    ['--uncertainty', join(dir, 'link.nii.gz')],
    ['--out', join(dir, 'hard.nii.gz')],
  ]) {
    await refused(checkOutputPaths({ inputs, outputs: [nii(role, path)] }), new RegExp(`^${role} .* is the input image .*ct\\.nii\\.gz; writing there would replace it, so choose another name$`));
  }
  // A new file beside the image is fine.
  await checkOutputPaths({ inputs, outputs: [nii('--out', join(dir, 'mask.nii.gz'))] });
});

test('checkOutputPaths: two outputs that resolve to one file are refused, case-folded where the file system ignores case', async () => {
  const { dir, image } = workspace();
  const inputs = [{ role: 'the input image', path: image }];
  await refused(
    checkOutputPaths({ inputs, outputs: [nii('--out', join(dir, 'm.nii.gz')), nii('--prob', `${dir}/sub/../m.nii.gz`)] }),
    /the folder of --prob .* does not exist/,
  );
  mkdirSync(join(dir, 'sub'));
  await refused(
    checkOutputPaths({ inputs, outputs: [nii('--out', join(dir, 'm.nii.gz')), nii('--prob', `${dir}/sub/../m.nii.gz`)] }),
    /^--prob .*m\.nii\.gz and --out .*m\.nii\.gz are the same file; give each output its own name/,
  );
  const differentCase = [nii('--out', join(dir, 'm.nii.gz')), nii('--prob', join(dir, 'M.nii.gz'))];
  await checkOutputPaths({ inputs, outputs: differentCase }, { isCaseInsensitive: async () => false });
  await refused(checkOutputPaths({ inputs, outputs: differentCase }, { isCaseInsensitive: async () => true }), /are the same file/);
});

test('checkOutputPaths: an existing file is overwritten only when its NIfTI header says it is a Lesion Lab output', async () => {
  const { dir, image } = workspace();
  const inputs = [{ role: 'the input image', path: image }];
  const ours = join(dir, 'ours.nii.gz');
  writeFileSync(ours, nifti('lesion-lab label map'));
  const oursPlain = join(dir, 'ours.nii');
  writeFileSync(oursPlain, nifti('lesion-lab lesion probability', false));
  await checkOutputPaths({ inputs, outputs: [nii('--out', ours), nii('--prob', oursPlain)] });
  // A mask saved and reviewed in the editor is ours too, but it is hand work: never replaced.
  const reviewed = join(dir, 'ct_seg.nii.gz');
  writeFileSync(reviewed, nifti('lesion-lab label map'));
  writeFileSync(join(dir, 'ct_seg.json'), JSON.stringify({ format: 'lesion-lab-mask-sidecar', version: 1, reviewed: false }));
  await checkOutputPaths({ inputs, outputs: [nii('--out', reviewed)] });
  writeFileSync(join(dir, 'ct_seg.json'), JSON.stringify({ format: 'lesion-lab-mask-sidecar', version: 1, reviewed: true }));
  await refused(
    checkOutputPaths({ inputs, outputs: [nii('--out', reviewed)] }),
    /^--out .*ct_seg\.nii\.gz is a mask reviewed in the Lesion Lab editor \(see ct_seg\.json\), so it is left alone; choose another name$/,
  );
  const theirs = join(dir, 'other.nii.gz');
  writeFileSync(theirs, nifti('FLAIR 3D'));
  await refused(
    checkOutputPaths({ inputs, outputs: [nii('--out', theirs)] }),
    /^--out .*other\.nii\.gz already exists and is not a Lesion Lab output \(its header description is "FLAIR 3D"\)/,
  );
  const text = join(dir, 'notes.nii.gz');
  writeFileSync(text, 'not an image');
  await refused(checkOutputPaths({ inputs, outputs: [nii('--out', text)] }), /notes\.nii\.gz already exists and is not a Lesion Lab output \(it is not a NIfTI-1 file\)/);
  await refused(checkOutputPaths({ inputs, outputs: [nii('--out', dir)] }), /already exists and is a folder/);
  const dangling = join(dir, 'dangling.nii.gz');
  symlinkSync(join(dir, 'nowhere.nii.gz'), dangling);
  await refused(checkOutputPaths({ inputs, outputs: [nii('--out', dangling)] }), /dangling\.nii\.gz is a symbolic link to a missing file/);
});

test('isLesionLabNifti reads only the header of a large .nii.gz', async () => {
  const dir = tempDir('ll-guard-');
  const path = join(dir, 'big.nii.gz');
  // 64³ float32 of noise: its gzip is far larger than the header prefix that is read.
  const data = new Uint8Array(64 ** 3 * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  writeFileSync(path, gzip(buildNifti({ dim: [64, 64, 64], datatype: 16, bitpix: 32, data, description: 'lesion-lab flip TTA std' }).file));
  assert.deepEqual(await isLesionLabNifti(path), { ours: true, description: 'lesion-lab flip TTA std' });
  writeFileSync(path, gzip(new Uint8Array(10)).subarray(0, 12));
  assert.equal((await isLesionLabNifti(path)).ours, false);
});

test('checkOutputPaths: a model store folder must be new, empty or a Lesion Lab store, and hold no input', async () => {
  const { dir, image } = workspace();
  const mask = join(dir, 'mask.nii.gz');
  writeFileSync(mask, nifti('lesion-lab label map'));
  const inputs = [
    { role: 'the image', path: image },
    { role: 'the mask', path: mask },
  ];
  const store = (path: string): GuardedOutput => ({ role: '--out', path, kind: 'model-store' });
  await checkOutputPaths({ inputs, outputs: [store(join(dir, 'models'))] });
  // A store is created with its missing folders; a file's folder must exist; a file is no folder.
  await checkOutputPaths({ inputs, outputs: [store(join(dir, 'new', 'deeper', 'models'))] });
  await refused(checkOutputPaths({ inputs, outputs: [nii('--out', join(dir, 'new', 'm.nii.gz'))] }), /^the folder of --out .*new\/m\.nii\.gz does not exist$/);
  await refused(checkOutputPaths({ inputs, outputs: [store(join(image, 'models'))] }), /^the folder of --out .*ct\.nii\.gz\/models is not a folder \(.*ct\.nii\.gz is a file\)$/);
  await refused(checkOutputPaths({ inputs, outputs: [store(join(image, 'a', 'models'))] }), /^the folder of --out .*ct\.nii\.gz\/a\/models is not a folder/);
  mkdirSync(join(dir, 'empty'));
  await checkOutputPaths({ inputs, outputs: [store(join(dir, 'empty'))] });
  const models = join(dir, 'store');
  mkdirSync(join(models, 'v1'), { recursive: true });
  mkdirSync(join(models, '.incomplete-1234-abcd'));
  writeFileSync(join(models, 'active.json'), '{"version":"v1"}');
  await checkOutputPaths({ inputs, outputs: [store(models)] });
  await refused(
    checkOutputPaths({ inputs, outputs: [store(dir)] }),
    /^--out .* already exists and is neither empty nor a Lesion Lab model store \(it holds ct\.nii\.gz, empty, mask\.nii\.gz and 1 more\); choose a new or empty folder/,
  );
  await refused(checkOutputPaths({ inputs, outputs: [store(image)] }), /--out .*ct\.nii\.gz is the image .*, so choose another/);
  await refused(checkOutputPaths({ inputs, outputs: [store(mask)] }), /--out .*mask\.nii\.gz is the mask/);
  writeFileSync(join(dir, 'file.txt'), 'x');
  await refused(checkOutputPaths({ inputs, outputs: [store(join(dir, 'file.txt'))] }), /already exists and is a file, not a folder/);
  // An input inside the store's folders could be removed or shadowed by its versions.
  const inside = join(models, 'v1', 'img.nii.gz');
  writeFileSync(inside, nifti('x'));
  await refused(
    checkOutputPaths({ inputs: [{ role: 'the image', path: inside }], outputs: [store(models)] }),
    /^the image .*img\.nii\.gz lies inside the model store --out .*store; keep images and masks outside it/,
  );
});
