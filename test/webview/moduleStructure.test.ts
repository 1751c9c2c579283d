// The webview's module structure: no file over 500 lines, no import cycle between its modules
// (type-only imports count too), and no import of extension-host code except the protocol.
// Runs in Node (no browser).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const WEBVIEW = resolve(__dirname, '../../webview');
const MAX_LINES = 500;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative import specifiers of a file (`import … from './x'`, `export … from './x'`). */
function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm)].map((m) => m[1]);
}

test(`no webview file is over ${MAX_LINES} lines`, () => {
  const long = sources(WEBVIEW)
    .map((f) => ({ file: relative(WEBVIEW, f), lines: readFileSync(f, 'utf8').split('\n').length }))
    .filter((f) => f.lines > MAX_LINES);
  assert.deepEqual(long, []);
});

test('the webview modules import each other without cycles', () => {
  const graph = new Map<string, string[]>();
  for (const f of sources(WEBVIEW)) {
    const deps = importsOf(f)
      .map((spec) => resolve(dirname(f), spec) + '.ts')
      .filter((p) => p.startsWith(WEBVIEW) && existsSync(p));
    graph.set(f, deps);
  }
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, stack: string[]): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].map((p) => relative(WEBVIEW, p)).join(' → '));
      else if (!state.has(d)) visit(d, stack);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f, []);
  assert.deepEqual(cycles, []);
  const edges = [...graph.values()].flat().length;
  assert.ok(graph.size > 20 && edges > 50, `found only ${graph.size} modules and ${edges} imports under ${WEBVIEW}`);
});

test('the webview imports nothing of the extension host but the protocol', () => {
  const outside = sources(WEBVIEW).flatMap((f) =>
    importsOf(f)
      .map((spec) => relative(resolve(WEBVIEW, '..'), resolve(dirname(f), spec)))
      .filter((p) => !p.startsWith('webview/') && !p.startsWith('src/protocol/'))
      .map((p) => `${relative(WEBVIEW, f)} imports ${p}`),
  );
  assert.deepEqual(outside, []);
});
