import { defineError } from '@geode/protocol';

/** The devnet could not start (EDR failed to load or to create the chain). */
export class DevnetStartError extends defineError({
  codes: ['DEVNET_START'],
  docsPath: '../README.md#requirements-and-decisions',
  build: (message: string, cause?: unknown) => ({ code: 'DEVNET_START', message: `The embedded devnet could not start: ${message}. Run \`npm ci\` on Linux x64 with Node >= 20.18 (EDR ships a native binary for it).`, cause }),
}) {}

/** A request named a block the devnet has not signed (not mined yet, or unknown). */
export class UnknownBlockError extends defineError({
  codes: ['DEVNET_UNKNOWN_BLOCK'],
  docsPath: 'cli.md#devnet-errors',
  build: (block: string) => ({ code: 'DEVNET_UNKNOWN_BLOCK', message: `Block ${block} does not exist on the devnet yet. Ask for a mined block number or "latest".`, details: { block } }),
}) {}

/** The devnet was used after close(). */
export class DevnetClosedError extends defineError({
  codes: ['DEVNET_CLOSED'],
  docsPath: 'cli.md#devnet-errors',
  build: () => ({ code: 'DEVNET_CLOSED', message: 'The devnet has been closed. Start a new one with startDevnet().' }),
}) {}

/** The devnet's Beacon API has no such object yet (the chain is too short for a finality update, or the root is unknown). */
export class BeaconNotAvailableError extends defineError({
  codes: ['DEVNET_BEACON_UNAVAILABLE'],
  docsPath: 'protocol.md#devnet-beacon',
  build: (what: string) => ({ code: 'DEVNET_BEACON_UNAVAILABLE', message: `The devnet's beacon chain cannot serve this yet: ${what}. Wait for more blocks, or ask for a root the devnet's anchor names.`, details: { what } }),
}) {}
