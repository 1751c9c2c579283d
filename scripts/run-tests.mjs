// Runs every test/**/*.test.ts with Node's test runner (TypeScript through tsx).
// Optional arguments filter test files by substring, e.g. `node scripts/run-tests.mjs nifti`.
// `--unit` leaves out what needs Chromium, code-server, the built bundles or real training
// (UNIT_EXCLUDED), for a fast edit-test loop, and runs one file per core; `npm test` runs
// everything, one file at a time.
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
// test/webview/: Chromium (and the page bundle); test/e2e/: code-server; test/cli/: the built
// dist/cli.js and whole commands on real volumes; test/scripts/ and test/ml/{training,overfit}:
// real training runs.
const UNIT_EXCLUDED = ['test/webview/', 'test/e2e/', 'test/cli/', 'test/scripts/', 'test/ml/training', 'test/ml/overfit'];
const unitOnly = process.argv.includes('--unit');
const filters = process.argv.slice(2).filter((a) => a !== '--unit');
const files = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .filter((f) => !unitOnly || !UNIT_EXCLUDED.some((s) => f.startsWith(s)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
// Unit test files share no state (each makes its own temporary folders), so they run a file per
// core; the full run keeps one file at a time: the Chromium and code-server tests want the machine.
const concurrency = unitOnly ? Math.max(1, availableParallelism()) : 1;
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
