import { GeodeError } from '@geode/protocol';

/** The devnet could not start (EDR failed to load or to create the chain). */
export class DevnetStartError extends GeodeError {
  constructor(message: string, cause?: unknown) {
    super('DEVNET_START', `The embedded devnet could not start: ${message}. Run \`npm ci\` on Linux x64 with Node >= 20.18 (EDR ships a native binary for it).`, { cause, docsPath: '../README.md#requirements-and-decisions' });
  }
}

/** A request named a block the devnet has not signed (not mined yet, or unknown). */
export class UnknownBlockError extends GeodeError {
  constructor(block: string) {
    super('DEVNET_UNKNOWN_BLOCK', `Block ${block} does not exist on the devnet yet. Ask for a mined block number or "latest".`, { details: { block } });
  }
}

/** The devnet was used after close(). */
export class DevnetClosedError extends GeodeError {
  constructor() {
    super('DEVNET_CLOSED', 'The devnet has been closed. Start a new one with startDevnet().');
  }
}

/** The devnet's Beacon API has no such object yet (the chain is too short for a finality update, or the root is unknown). */
export class BeaconNotAvailableError extends GeodeError {
  constructor(what: string) {
    super('DEVNET_BEACON_UNAVAILABLE', `The devnet's beacon chain cannot serve this yet: ${what}. Wait for more blocks, or ask for a root the devnet's anchor names.`, { details: { what }, docsPath: 'protocol.md#devnet-beacon' });
  }
}
