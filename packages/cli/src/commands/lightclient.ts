/**
 * `geode lightclient verify --network mainnet --checkpoint ROOT --bootstrap FILE --updates FILE [--finality FILE] [--json]`
 * `geode lightclient verify-proof --block FILE --proof FILE [--json]`
 *
 * verify: runs the enclave's Ethereum sync-committee light client (packages/enclave/src/lightclient/ethereum) from
 * the weak-subjectivity checkpoint over Beacon API JSON files (`{"version", "data"}`; --updates holds an array of
 * them, oldest period first) and prints the finalized beacon slot, execution block number and state root.
 * verify-proof: rebuilds the execution block hash from an eth_getBlockByNumber result's header fields, then checks
 * an eth_getProof result (EIP-1186) for its account and every storage key it lists against that block's state root.
 *
 * --json prints one line: verify `{"ok":true,"finalizedSlot":"<n>","executionBlockNumber":"<n>",
 * "executionStateRoot":"0x…"}`; verify-proof `{"ok":true,"blockNumber":"<n>","blockHash":"0x…","stateRoot":"0x…",
 * "address":"0x…","storage":[{"key","value"}]}`. Any failure prints `{"ok":false,"error":{"code","message"}}`
 * (without --json: `error CODE: message`). Exit code 0 ok, 1 refused, 2 usage or file error. Sets
 * process.exitCode, never calls process.exit. Files are untrusted input: every check is the enclave's.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { encodeHeaderRlp, decodeHeader, GeodeError, type RpcBlockHeader, type StorageProofJson } from '@geode/protocol';
import { verifyStorageProof } from '@geode/enclave';
import type { Address, Hex } from 'viem';
import { LightClientError } from '@geode/enclave';
import { CliArgumentError, CliFileError } from '../errors.ts';

/** Output sink (tests capture it). */
export interface LightClientIo {
  out(text: string): void;
}
const defaultIo: LightClientIo = { out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`) };

/** Networks whose anchor fields (genesis validators root, fork schedule) Geode ships. */
export const LIGHT_CLIENT_NETWORKS = ['mainnet'] as const;

/** Largest JSON file read (a period update is ~60 KB; 128 of them ~8 MB). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    const buf = readFileSync(file);
    if (buf.length > MAX_FILE_BYTES) throw new CliArgumentError(`${what} file ${file} is larger than ${MAX_FILE_BYTES} bytes.`);
    text = buf.toString('utf8');
  } catch (e) {
    if (e instanceof GeodeError) throw e;
    throw new CliFileError(`Cannot read ${what} file ${file}: ${(e as Error).message}.`, e);
  }
  try {
    const j = JSON.parse(text) as { result?: unknown; jsonrpc?: unknown };
    // Accept a bare result or the whole JSON-RPC response.
    return j && typeof j === 'object' && 'jsonrpc' in j && 'result' in j ? j.result : j;
  } catch (e) {
    throw new CliFileError(`${what} file ${file} is not JSON: ${(e as Error).message}.`, e);
  }
}

function fail(e: unknown, json: boolean | undefined, io: LightClientIo): number {
  const g = e instanceof GeodeError ? e : null;
  const code = g?.code ?? 'CLI_UNEXPECTED';
  const message = g?.message ?? String(e);
  io.out(json ? JSON.stringify({ ok: false, error: { code, message } }) : `error ${code}: ${message}`);
  return code.startsWith('CLI_') ? 2 : 1;
}

/** Implements `lightclient verify`. Returns the exit code. */
export async function runLightClientVerify(
  opts: { network?: string; checkpoint?: string; bootstrap?: string; updates?: string; finality?: string; json?: boolean },
  io: LightClientIo = defaultIo,
): Promise<number> {
  try {
    // Loaded on use: Lodestar and the BLS WebAssembly would otherwise slow every other geode command's start.
    const { mainnetAnchor, syncLightClient } = await import('@geode/enclave/ethereum');
    const network = opts.network ?? 'mainnet';
    if (!(LIGHT_CLIENT_NETWORKS as readonly string[]).includes(network)) throw new CliArgumentError(`--network must be one of ${LIGHT_CLIENT_NETWORKS.join(', ')} (got ${network}).`);
    if (!opts.checkpoint || !/^0x[0-9a-fA-F]{64}$/.test(opts.checkpoint)) throw new CliArgumentError('--checkpoint ROOT must be a 0x-prefixed 32-byte beacon block root.', { checkpoint: opts.checkpoint });
    if (!opts.bootstrap) throw new CliArgumentError('--bootstrap FILE is required.');
    if (!opts.updates) throw new CliArgumentError('--updates FILE (a JSON array of Beacon API updates) is required.');
    const anchor = mainnetAnchor(opts.checkpoint as Hex);
    const updates = readJson(opts.updates, 'updates');
    if (!Array.isArray(updates)) throw new CliArgumentError(`--updates ${opts.updates} must hold a JSON array of {"version", "data"} updates.`);
    const r = syncLightClient(anchor, null, {
      bootstrap: readJson(opts.bootstrap, 'bootstrap'),
      updates,
      finalityUpdate: opts.finality ? readJson(opts.finality, 'finality') : undefined,
    });
    if (opts.json) {
      io.out(JSON.stringify({ ok: true, finalizedSlot: String(r.finalized.slot), executionBlockNumber: r.finalized.execution.number.toString(), executionStateRoot: r.finalized.execution.stateRoot }));
    } else {
      io.out([
        `verified ${network} from checkpoint ${anchor.checkpoint} over ${updates.length} update(s)${opts.finality ? ' and a finality update' : ''}`,
        `finalized beacon slot: ${r.finalized.slot}`,
        `execution block number: ${r.finalized.execution.number}`,
        `execution block hash: ${r.finalized.execution.hash}`,
        `execution state root: ${r.finalized.execution.stateRoot}`,
      ].join('\n'));
    }
    return 0;
  } catch (e) {
    return fail(e, opts.json, io);
  }
}

/** Implements `lightclient verify-proof`. Returns the exit code. */
export async function runLightClientVerifyProof(opts: { block?: string; proof?: string; json?: boolean }, io: LightClientIo = defaultIo): Promise<number> {
  try {
    if (!opts.block) throw new CliArgumentError('--block FILE (an eth_getBlockByNumber result) is required.');
    if (!opts.proof) throw new CliArgumentError('--proof FILE (an eth_getProof result) is required.');
    const block = readJson(opts.block, 'block') as RpcBlockHeader;
    const proof = readJson(opts.proof, 'proof') as StorageProofJson;
    if (!block || typeof block !== 'object') throw new CliArgumentError('--block must hold an eth_getBlockByNumber result object.');
    if (!proof || typeof proof !== 'object' || !Array.isArray(proof.storageProof) || !Array.isArray(proof.accountProof)) throw new CliArgumentError('--proof must hold an eth_getProof result object.');
    const h = decodeHeader(encodeHeaderRlp(block));
    if (typeof block.hash === 'string' && block.hash.toLowerCase() !== h.hash) {
      throw new LightClientError('LC_EXECUTION_BLOCK_MISMATCH', `The block's header fields hash to ${h.hash}, not its stated hash ${block.hash}: a field was altered.`, { details: { computed: h.hash, stated: block.hash } });
    }
    const keys = proof.storageProof.map((s) => s.key as Hex);
    const values = await verifyStorageProof(h.stateRoot, proof, proof.address as Address, keys);
    const storage = keys.map((k) => ({ key: k, value: `0x${values.get(k.toLowerCase() as Hex)!.toString(16)}` }));
    if (opts.json) {
      io.out(JSON.stringify({ ok: true, blockNumber: h.number.toString(), blockHash: h.hash, stateRoot: h.stateRoot, address: proof.address.toLowerCase(), storage }));
    } else {
      io.out([
        `block ${h.number} hash ${h.hash} (recomputed from its header fields)`,
        `state root: ${h.stateRoot}`,
        `account ${proof.address}: proven (balance ${BigInt(proof.balance)}, nonce ${BigInt(proof.nonce)})`,
        ...storage.map((s) => `storage ${s.key} = ${s.value}`),
      ].join('\n'));
    }
    return 0;
  } catch (e) {
    return fail(e, opts.json, io);
  }
}

/** Registers `lightclient verify` and `lightclient verify-proof` on a commander program. */
export function registerLightClientCommands(program: Command): void {
  const lc = program.command('lightclient').description('Run the enclave\'s Ethereum light client on Beacon API and JSON-RPC data');
  lc.command('verify')
    .option('--network <name>', `network whose genesis validators root and fork schedule to use (${LIGHT_CLIENT_NETWORKS.join(', ')})`, 'mainnet')
    .requiredOption('--checkpoint <root>', 'weak-subjectivity checkpoint: 0x beacon block root to bootstrap from')
    .requiredOption('--bootstrap <file>', 'LightClientBootstrap JSON ({"version","data"}, /eth/v1/beacon/light_client/bootstrap)')
    .requiredOption('--updates <file>', 'JSON array of LightClientUpdates, oldest period first (/eth/v1/beacon/light_client/updates)')
    .option('--finality <file>', 'LightClientFinalityUpdate JSON (/eth/v1/beacon/light_client/finality_update)')
    .option('--json', 'end with one JSON line')
    .description('Verify sync-committee updates from a checkpoint; print the finalized slot and its execution block')
    .action(async (opts: { network?: string; checkpoint?: string; bootstrap?: string; updates?: string; finality?: string; json?: boolean }) => {
      process.exitCode = await runLightClientVerify(opts);
    });
  lc.command('verify-proof')
    .requiredOption('--block <file>', 'eth_getBlockByNumber result (or the whole JSON-RPC response)')
    .requiredOption('--proof <file>', 'eth_getProof result (EIP-1186) at that block')
    .option('--json', 'end with one JSON line')
    .description('Recompute the block hash from its header fields, then verify the account and storage proofs against its state root')
    .action(async (opts: { block?: string; proof?: string; json?: boolean }) => {
      process.exitCode = await runLightClientVerifyProof(opts);
    });
}
