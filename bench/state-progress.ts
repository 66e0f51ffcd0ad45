/** Keys between two progress lines of a bench:state bulk load. */
export const PROGRESS_EVERY = 100_000;

/**
 * Print a bulk load's progress to stderr (stdout carries the children's JSON protocol): `done` of `total` keys
 * yielded to the loader, and the seconds since `t0` (performance.now() ms).
 */
export function progress(done: number, total: number, t0: number): void {
  process.stderr.write(`    … ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} keys loaded (${Math.round((performance.now() - t0) / 1000)} s)\n`);
}
