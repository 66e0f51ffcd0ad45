// Loaded into every test process (scripts/test.mjs --import): property tests run from one pinned seed, so a run is
// repeatable and a CI result does not depend on luck. GEODE_FC_SEED=<int> replays another seed; a failing property
// prints its seed and path (fast-check), which reproduces it with that variable.
import fc from 'fast-check';

fc.configureGlobal({ seed: Number.parseInt(process.env.GEODE_FC_SEED ?? '20261201', 10) });
