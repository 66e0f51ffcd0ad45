import { hexToBytes, type Hex } from 'viem';
import { PUBLIC_OUTPUT_HOOK_GAS } from '@geode/protocol';

/**
 * A gas limit for a `commitBatch` transaction computed from its calldata alone, so that the host need not call
 * eth_estimateGas for every batch (docs/protocol.md#commit-gas). It is an upper bound of what the transaction can
 * use, built from the EVM gas schedule (Osaka; EIP-2028 calldata, EIP-7623 calldata floor, EIP-2929 cold access,
 * the yellow paper's memory expansion and LOG costs) over what GeodeCore.commitBatch does with its arguments:
 *
 * 1. Intrinsic: 21,000 + 4 gas per calldata token, where a zero byte is one token and a non-zero byte four (EIP-2028
 *    16 gas per non-zero byte, 4 per zero byte).
 * 2. Execution, bounded by COMMIT_EXEC_FIXED_GAS (the reads and writes of the contract's slots, the signature
 *    recovery, the digest, the events' fixed parts) + COMMIT_EXEC_GAS_PER_BYTE per calldata byte (LOG data at 8 gas
 *    a byte, the copies to memory and keccak256 at a few gas a word) + the memory expansion of four copies of the
 *    calldata (3 gas a word + words² / 512) + COMMIT_GAS_PER_PUBLIC_OUTPUT per public output (the hook's full stipend
 *    PUBLIC_OUTPUT_HOOK_GAS × 64/63, which commitBatch requires to be left before each call, plus the call and its
 *    event).
 * 3. The limit is max(intrinsic + execution, 21,000 + 10 gas per token): EIP-7623's floor for data-heavy transactions.
 *
 * The bound is generous by design (an unused gas limit costs nothing: only gas used is paid), and
 * packages/host/test/commit-gas.test.ts checks it against the gas the devnet charges for commitments from one output
 * to the output caps, with 32 public outputs whose hooks burn their whole stipend. Should a commitment still run out
 * of gas (a future contract change), it reverts, and the host's next commitment is estimated with eth_estimateGas.
 *
 * @param calldata The commitBatch transaction's input (selector and ABI-encoded arguments), 0x hex.
 * @param publicOutputs How many public outputs the commitment delivers (the length of its `publicOutputs` array).
 * @returns The gas limit, in gas units (not checked against any cap: the caller compares it with min(2^24, block gas limit)).
 */
export function commitGasBound(calldata: Hex, publicOutputs: number): bigint {
  const bytes = hexToBytes(calldata);
  let zeros = 0;
  for (const b of bytes) if (b === 0) zeros++;
  const len = bytes.length;
  // 1.
  const tokens = BigInt(zeros + 4 * (len - zeros));
  const intrinsic = TX_BASE_GAS + 4n * tokens;
  // 2.
  const words = BigInt(Math.ceil((4 * len + MEMORY_SLACK_BYTES) / 32));
  const memory = 3n * words + (words * words) / 512n;
  const execution = COMMIT_EXEC_FIXED_GAS + COMMIT_EXEC_GAS_PER_BYTE * BigInt(len) + memory + COMMIT_GAS_PER_PUBLIC_OUTPUT * BigInt(publicOutputs);
  // 3.
  const floor = TX_BASE_GAS + FLOOR_GAS_PER_TOKEN * tokens;
  const standard = intrinsic + execution;
  return standard > floor ? standard : floor;
}

/** Intrinsic gas of every transaction (yellow paper G_transaction). */
const TX_BASE_GAS = 21_000n;
/** EIP-7623 TOTAL_COST_FLOOR_PER_TOKEN. */
const FLOOR_GAS_PER_TOKEN = 10n;
/**
 * Fixed part of commitBatch's execution: about 75,000 measured with one output (cold reads of the session, position,
 * accumulator and root slots, two slot writes, ecrecover, keccak256 of the digest, the BatchCommitted event);
 * doubled for the margin.
 */
export const COMMIT_EXEC_FIXED_GAS = 150_000n;
/** Per calldata byte: 8 for LOG data, the rest for memory copies and keccak256 (3 + 6 gas per 32-byte word). */
export const COMMIT_EXEC_GAS_PER_BYTE = 12n;
/** Per public output: the hook stipend commitBatch requires left (100,000 × 64/63 + 20,000) and the call and event around it. */
export const COMMIT_GAS_PER_PUBLIC_OUTPUT = (PUBLIC_OUTPUT_HOOK_GAS * 64n) / 63n + 40_000n;
/** Memory the contract uses besides the copies of its calldata (free-memory pointer, the commitment struct, ABI heads). */
const MEMORY_SLACK_BYTES = 8192;
