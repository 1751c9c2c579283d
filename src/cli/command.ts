// What a `lesion-lab <command>` entry looks like; src/cli.ts holds the table of commands.

/** Where a command writes; tests pass collectors, the real CLI passes process streams. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** One sub-command of the `lesion-lab` command line. */
export interface CliCommand {
  /** The word after `lesion-lab`, e.g. 'info'. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Usage line, e.g. 'lesion-lab info FILE [--json] [--frame N]'. */
  usage: string;
  /**
   * Runs the command with the arguments after its name.
   * @returns the process exit code: 0 success, 2 bad input (unreadable file, wrong arguments).
   */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Wrong arguments: the CLI prints the message and the command's usage and exits with code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** Exit codes shared by all commands. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;
