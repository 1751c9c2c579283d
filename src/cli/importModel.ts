// `lesion-lab import-model DIR --out STORE [--input FILE] [--activate always|never]`: adds a
// TensorFlow.js model (layers or graph format) with its input description to a model store as a
// new version that Segment Lesion (editor and `lesion-lab segment --model STORE`) can run.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { importModel, INPUT_DESCRIPTION_FILE } from '../ml/importedModel';
import { ModelStore } from '../ml/modelStore';
import { checkOutputPaths } from '../util/outputGuard';
import { CliUsageError, EXIT_BAD_INPUT, EXIT_OK, type CliCommand, type CliIo } from './command';
import { backendOption, parseArgs, reportInputErrors } from './segment';

const USAGE = `lesion-lab import-model DIR --out STORE [--input DIR/${INPUT_DESCRIPTION_FILE}] [--activate always|never] [--backend auto|wasm|cpu]`;

async function runImport(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, ['out', 'input', 'activate', 'backend']);
  if (args.positional.length !== 1) throw new CliUsageError(`expected one model folder DIR (model.json, weight files, ${INPUT_DESCRIPTION_FILE}), got ${args.positional.length}`);
  const dir = args.positional[0];
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliUsageError(`${dir}: model folder not found`);
  const out = args.options.get('out');
  if (typeof out !== 'string') throw new CliUsageError('--out STORE is required (a model store folder, e.g. <workspace>/.lesion-lab/models)');
  const input = args.options.get('input');
  if (input === true) throw new CliUsageError('--input needs a file');
  const activate = args.options.get('activate') ?? 'always';
  if (activate !== 'always' && activate !== 'never') throw new CliUsageError(`--activate must be always or never, got ${JSON.stringify(activate)}`);
  const descriptionPath = input ?? join(dir, INPUT_DESCRIPTION_FILE);
  await checkOutputPaths({
    inputs: [
      { role: 'the model', path: join(dir, 'model.json') },
      { role: '--input', path: descriptionPath },
    ],
    outputs: [{ role: '--out', path: out, kind: 'model-store' }],
  });
  const { initBackend } = await import('../ml/backend');
  const backend = await initBackend({ preferred: backendOption(args) });
  io.stdout(`backend: ${backend.name} (${backend.reason})\n`);
  const result = await importModel(dir, new ModelStore(out), { descriptionPath, activate: activate === 'always' });
  const card = result.version.card;
  io.stdout(
    `imported ${result.kind === 'tfjs-layers' ? 'layers' : 'graph'} model ${dir} as ${result.version.version} in ${out}` +
      `${activate === 'always' ? ' (active)' : ''}: window ${card.patchSizeVoxels.join('×')}, ` +
      `${card.preprocessing.targetSpacingMm ? `spacing ${card.preprocessing.targetSpacingMm.join('×')} mm` : "the image's own spacing"}, ${card.preprocessing.modality}; ` +
      `check window gave [${result.checkedOutputShape.join(',')}]\n`,
  );
  return EXIT_OK;
}

/** `lesion-lab import-model`: bring your own TensorFlow.js model. */
export const importModelCommand: CliCommand = {
  name: 'import-model',
  summary: 'add a TensorFlow.js model (layers or graph) with its input description to a model store',
  usage: USAGE,
  run(args, io) {
    return reportInputErrors('import-model', io, async () => {
      try {
        return await runImport(args, io);
      } catch (e) {
        if (e instanceof Error && e.name === 'ImportModelError') {
          io.stderr(`lesion-lab import-model: ${e.message.split('\n')[0]}\n`);
          return EXIT_BAD_INPUT;
        }
        throw e;
      }
    });
  },
};
