/**
 * Resolves after one turn of the event loop: the I/O callbacks waiting in it run first (an HPKE worker's answers,
 * hpke/pool.ts). Awaiting an already settled promise is no such turn, only a microtask. Safe inside a batch because
 * the enclave serves one transport request at a time (server.ts): a turn runs the pool's callbacks, never another
 * request's handler.
 */
export const eventLoopTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
