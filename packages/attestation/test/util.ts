/** The `code` of what `f` throws, "untyped: <message>" for an error without one, or "no error". */
export function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code ?? `untyped: ${(e as Error).message}`;
  }
  return 'no error';
}
