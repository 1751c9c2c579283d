// writeFilesAtomically: several files (a mask and its sidecar) land together or not at all, and a
// failure names the file. Failures are injected through the file-system operations it takes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtomicWriteError, nodeAtomicWriteFs, writeFilesAtomically, type AtomicWriteFs } from '../../src/util/writeFilesAtomically';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lesion-lab-pair-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function freshFolder(name: string): string {
  return mkdtempSync(join(dir, name));
}

function errnoError(code: string, syscall: string): NodeJS.ErrnoException {
  const err = new Error(`${code}: simulated failure, ${syscall}`) as NodeJS.ErrnoException;
  err.code = code;
  err.syscall = syscall;
  return err;
}

/** The real operations, except that `failOn` makes one of them fail for paths matching it. */
function failing(op: keyof AtomicWriteFs, match: RegExp, code: string): AtomicWriteFs {
  const fs = { ...nodeAtomicWriteFs };
  const real = nodeAtomicWriteFs[op] as (...a: unknown[]) => Promise<void>;
  (fs as Record<string, unknown>)[op] = async (...args: unknown[]) => {
    const target = String(op === 'rename' ? args[1] : args[0]);
    if (match.test(target)) throw errnoError(code, op);
    return real(...args);
  };
  return fs;
}

describe('writeFilesAtomically', () => {
  it('writes every file, replacing old ones, and leaves no temporary files', async () => {
    const d = freshFolder('ok-');
    writeFileSync(join(d, 'case_seg.json'), 'old sidecar');
    await writeFilesAtomically([
      { path: join(d, 'case_seg.nii.gz'), bytes: Uint8Array.from([1, 2, 3]) },
      { path: join(d, 'case_seg.json'), bytes: '{"new": true}' },
    ]);
    assert.deepEqual(Array.from(readFileSync(join(d, 'case_seg.nii.gz'))), [1, 2, 3]);
    assert.equal(readFileSync(join(d, 'case_seg.json'), 'utf8'), '{"new": true}');
    assert.deepEqual(readdirSync(d).sort(), ['case_seg.json', 'case_seg.nii.gz']);
  });

  it('a full disk while writing the second file changes neither file and names it', async () => {
    const d = freshFolder('enospc-');
    writeFileSync(join(d, 'case_seg.nii.gz'), 'old mask');
    writeFileSync(join(d, 'case_seg.json'), 'old sidecar');
    const fs = failing('writeTemp', /case_seg\.json/, 'ENOSPC');
    const err = await writeFilesAtomically(
      [
        { path: join(d, 'case_seg.nii.gz'), bytes: 'new mask' },
        { path: join(d, 'case_seg.json'), bytes: 'new sidecar' },
      ],
      fs,
    ).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AtomicWriteError);
    assert.equal(err.filePath, join(d, 'case_seg.json'));
    assert.equal(err.code, 'ENOSPC');
    assert.match(err.message, /case_seg\.json/);
    assert.match(err.message, /ENOSPC/);
    assert.match(err.message, /no file was changed/);
    assert.equal(readFileSync(join(d, 'case_seg.nii.gz'), 'utf8'), 'old mask');
    assert.equal(readFileSync(join(d, 'case_seg.json'), 'utf8'), 'old sidecar');
    assert.deepEqual(readdirSync(d).sort(), ['case_seg.json', 'case_seg.nii.gz']);
  });

  it('a failed rename of the second file puts the first back (old content, or no file)', async () => {
    const d = freshFolder('rename-');
    writeFileSync(join(d, 'a.nii.gz'), 'old a');
    const fs = failing('rename', /b\.json$/, 'EIO');
    await assert.rejects(
      writeFilesAtomically(
        [
          { path: join(d, 'a.nii.gz'), bytes: 'new a' },
          { path: join(d, 'b.json'), bytes: 'new b' },
        ],
        fs,
      ),
      (e: unknown) => e instanceof AtomicWriteError && e.filePath === join(d, 'b.json') && /EIO/.test(e.message) && /a\.nii\.gz/.test(e.message),
    );
    assert.equal(readFileSync(join(d, 'a.nii.gz'), 'utf8'), 'old a');
    assert.deepEqual(readdirSync(d), ['a.nii.gz']);

    const d2 = freshFolder('rename-new-');
    await assert.rejects(
      writeFilesAtomically(
        [
          { path: join(d2, 'a.nii.gz'), bytes: 'new a' },
          { path: join(d2, 'b.json'), bytes: 'new b' },
        ],
        fs,
      ),
      AtomicWriteError,
    );
    assert.deepEqual(readdirSync(d2), []);
  });

  it('refuses the same path twice and a missing folder, naming the path', async () => {
    const d = freshFolder('dup-');
    await assert.rejects(
      writeFilesAtomically([
        { path: join(d, 'x.json'), bytes: '1' },
        { path: join(d, 'x.json'), bytes: '2' },
      ]),
      /x\.json.*twice/,
    );
    await assert.rejects(writeFilesAtomically([{ path: join(d, 'missing', 'y.json'), bytes: '1' }]), (e: unknown) => e instanceof AtomicWriteError && /missing\/y\.json/.test(e.message) && e.code === 'ENOENT');
    assert.deepEqual(readdirSync(d), []);
  });
});
