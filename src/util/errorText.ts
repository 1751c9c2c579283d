/** The message of `err` for a log line or a notification (`String(err)` when it is not an Error). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
