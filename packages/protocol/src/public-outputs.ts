import { decodeAbiParameters, encodeAbiParameters, keccak256, type Hex } from 'viem';

/**
 * Public outputs (docs/protocol.md#public-outputs): plaintext bytes a handler publishes (`ctx.publish`) for the app
 * contract to act on. They are committed with the batch (publicOutputsHash is a field of the commitment digest) and
 * handed, in order, to the app contract's hook `_onPublicOutput(uint256 seq, bytes data)` inside `commitBatch`.
 */
export interface PublicOutput {
  /** Sequence number of the request whose handler published it. */
  seq: bigint;
  /** The app-defined bytes (e.g. abi.encode(address to, uint256 amount) for a withdrawal), 0x hex. */
  data: Hex;
}

/** Most public outputs one request may publish; more and the request is refused (ENCLAVE_OUTPUT_LIMIT, changes nothing). */
export const MAX_PUBLIC_OUTPUTS_PER_REQUEST = 4;
/** Largest `data` of one public output, in bytes; larger and the request is refused (ENCLAVE_OUTPUT_LIMIT). */
export const MAX_PUBLIC_OUTPUT_BYTES = 1024;
/**
 * Most public outputs in one batch: the batch ends before a request whose public outputs would take it over
 * (caps.ts rule 2). With PUBLIC_OUTPUT_HOOK_GAS each, the hooks of a full batch take at most 32 x 100,000 = 3.2M
 * gas, which keeps a batch at every cap under the EIP-7825 transaction cap 2^24 (docs/protocol.md#caps).
 */
export const MAX_PUBLIC_OUTPUTS_PER_BATCH = 32;
/** Gas GeodeCore gives the app's hook for each public output (GeodeCore.PUBLIC_OUTPUT_HOOK_GAS). */
export const PUBLIC_OUTPUT_HOOK_GAS = 100_000n;

/**
 * Bytes a public output adds to the commitment's `publicOutputs` (abi.encode((uint256,bytes)[])): a 32-byte array
 * offset, the 2-word tuple head (seq, data offset), the length word and the data padded to 32 bytes. Counted into
 * the per-request and per-batch output byte caps together with the encrypted outputs (caps.ts).
 */
export function encodedPublicOutputBytes(dataBytes: number): number {
  return 4 * 32 + Math.ceil(dataBytes / 32) * 32;
}

const PUBLIC_OUTPUTS_ABI = [{ type: 'tuple[]', components: [{ name: 'seq', type: 'uint256' }, { name: 'data', type: 'bytes' }] }] as const;

/** abi.encode((uint256 seq, bytes data)[]) — the `publicOutputs` argument of commitBatch; publicOutputsHash = keccak256 of it. */
export function encodePublicOutputs(outputs: readonly PublicOutput[]): Hex {
  return encodeAbiParameters(PUBLIC_OUTPUTS_ABI, [outputs.map((o) => ({ seq: o.seq, data: o.data }))]);
}

/** Inverse of encodePublicOutputs. Throws viem's AbiDecodingError on malformed bytes. */
export function decodePublicOutputs(data: Hex): PublicOutput[] {
  const [list] = decodeAbiParameters(PUBLIC_OUTPUTS_ABI, data);
  return list.map((o) => ({ seq: o.seq, data: o.data }));
}

/** keccak256(encodePublicOutputs(outputs)): the commitment digest's publicOutputsHash (bytes32). */
export const publicOutputsHash = (encoded: Hex): Hex => keccak256(encoded);

/** encodePublicOutputs([]): the `publicOutputs` of a batch that published nothing (64 bytes: offset 0x20, length 0). */
export const NO_PUBLIC_OUTPUTS: Hex = encodePublicOutputs([]);
