/**
 * JSON.parse's complaint without the file's text: V8 quotes the start of what it could not parse
 * ("Unexpected token 'S', "SECRET-OUT" is not valid JSON"), and a message goes back to whoever asked —
 * in browser mode, a page. The position is enough to find the fault.
 */
export function jsonProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/, ".*"(?:\.\.\.)? is not valid JSON$/s, ': not valid JSON');
}
