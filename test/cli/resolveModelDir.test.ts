// `segment --model <store>` follows the store's active.json: a version of the store, or the shipped
// starter the editor chose for the workspace ({"starter": "<name>"}), with a clear message when
// that starter is not shipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveModelDir } from '../../src/cli/segment';
import { tempDir } from '../helpers/tempDir';

test('resolveModelDir: a store whose active.json names a shipped starter resolves to media/models/<name>', async () => {
  const store = join(tempDir('ll-cli-store-'), 'models');
  mkdirSync(store, { recursive: true });
  writeFileSync(join(store, 'active.json'), '{"starter": "sarcoma-pet"}');
  assert.equal(await resolveModelDir(store), resolve(__dirname, '../../media/models/sarcoma-pet'));
  writeFileSync(join(store, 'active.json'), '{"starter": "no-such-task"}');
  await assert.rejects(resolveModelDir(store), /active\.json names the starter model "no-such-task", which cannot be used \(.*no-such-task is not a starter model shipped/);
  writeFileSync(join(store, 'active.json'), '{"version": ');
  await assert.rejects(resolveModelDir(store), /whose active version is missing or unreadable \(.*active\.json is not valid JSON/);
});
