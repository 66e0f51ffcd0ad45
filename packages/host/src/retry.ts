/**
 * Run `f`, again when it fails with LC_STALE_HEADER (the enclave's light client moved past the header `f` fetched,
 * because another host drives the same enclave), up to 5 times in all. Other errors are thrown at once.
 */
export async function retryStale<T>(f: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (e) {
      if ((e as { code?: string }).code !== 'LC_STALE_HEADER' || i >= 4) throw e;
    }
  }
}
