/** Start-up progress for people watching a terminal; stderr so stdout stays parseable. */
export function step(message: string): void {
  process.stderr.write(`[iar] ${message}\n`);
}

/** A set-up failure the user can fix: printed without a stack trace. */
export class SetupError extends Error {
  override name = 'SetupError';
}
