// `npm run bench [-- PART ...] [--json]`: runs every scripts/bench/<part>.ts (or only the named
// parts). Each part prints its own figures; this is a measurement, not a timed test.
import { readdirSync } from 'node:fs';
import { join, basename } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface BenchOptions {
  json: boolean;
  args: string[];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const wanted = argv.filter((a) => !a.startsWith('--'));
  const dir = join(__dirname, 'bench');
  const parts = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => basename(f, '.ts'))
    .filter((p) => wanted.length === 0 || wanted.includes(p))
    .sort();
  if (parts.length === 0) throw new Error(`bench: no part matches ${wanted.join(', ')}`);
  for (const part of parts) {
    if (!json) console.log(`\n== bench: ${part} ==`);
    const mod = await import(pathToFileURL(join(dir, `${part}.ts`)).href);
    const run = (mod.default?.default ?? mod.default) as (o: BenchOptions) => Promise<void>;
    await run({ json, args: argv });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
