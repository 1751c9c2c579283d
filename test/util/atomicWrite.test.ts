// writeFileAtomic: content lands whole, replaces old files, and failures leave no temp files.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/util/atomicWrite';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'lesion-lab-atomic-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('writes bytes and strings, replacing an existing file', async () => {
    const path = join(dir, 'a.bin');
    writeFileSync(path, 'old content');
    await writeFileAtomic(path, Uint8Array.from([1, 2, 3]));
    assert.deepEqual(Array.from(readFileSync(path)), [1, 2, 3]);
    await writeFileAtomic(path, 'héllo');
    assert.equal(readFileSync(path, 'utf8'), 'héllo');
    assert.deepEqual(readdirSync(dir), ['a.bin']);
  });

  it('rethrows and leaves neither a temp file nor a changed target when the rename fails', async () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    const target = join(sub, 'target');
    mkdirSync(target); // renaming a file over a non-empty folder fails
    writeFileSync(join(target, 'keep'), 'x');
    await assert.rejects(writeFileAtomic(target, 'data'), /EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    assert.deepEqual(readdirSync(sub), ['target']);
    assert.deepEqual(readdirSync(target), ['keep']);
  });

  it('fails cleanly when the folder does not exist', async () => {
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'x'), 'data'), /ENOENT/);
  });
});
