// `lesion-lab <command> ...`: the command-line entry point (bundled to dist/cli.js).
// Commands live in src/cli/<name>.ts and are listed once in COMMANDS below.
import { CliUsageError, EXIT_BAD_INPUT, EXIT_FAILURE, type CliCommand, type CliIo } from './cli/command';
import { errorText } from './util/errorText';

/**
 * Every command of the CLI (in the order `lesion-lab --help` lists them), loaded on demand so
 * that a quick `info` never initialises TensorFlow.js. Add a command as
 * `name: async () => (await import('./cli/name')).nameCommand`.
 */
export const COMMANDS: Readonly<Record<string, () => Promise<CliCommand>>> = {
  info: async () => (await import('./cli/info')).infoCommand,
  segment: async () => (await import('./cli/segment')).segmentCommand,
  'fine-tune': async () => (await import('./cli/fineTune')).fineTuneCommand,
  export: async () => (await import('./cli/export')).exportCommand,
  'import-model': async () => (await import('./cli/importModel')).importModelCommand,
  'import-dicom': async () => (await import('./cli/importDicom')).importDicomCommand,
  'export-seg': async () => (await import('./cli/exportSeg')).exportSegCommand,
  'import-seg': async () => (await import('./cli/importSeg')).importSegCommand,
};

async function usageText(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: lesion-lab <command> [arguments]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'lesion-lab <command> --help' for a command's arguments.",
    '',
  ].join('\n');
}

/**
 * Runs the CLI with `argv` (the arguments after the program name).
 * @returns the exit code: 0 success, 1 unexpected failure, 2 bad input or usage.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io[name === undefined ? 'stderr' : 'stdout'](await usageText());
    return name === undefined ? EXIT_BAD_INPUT : 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    io.stderr(`lesion-lab: unknown command '${name}'; the commands are ${Object.keys(COMMANDS).join(', ')}\n`);
    return EXIT_BAD_INPUT;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`usage: ${command.usage}\n${command.summary}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof CliUsageError) {
      io.stderr(`lesion-lab ${command.name}: ${err.message}\nusage: ${command.usage}\n`);
      return EXIT_BAD_INPUT;
    }
    const message = errorText(err);
    io.stderr(`lesion-lab ${command.name}: unexpected error: ${message}\n`);
    return EXIT_FAILURE;
  }
}

if (require.main === module) {
  // Output piped into a reader that stops early (`| head`): stop quietly, as Unix tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`lesion-lab: ${errorText(err)}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}
