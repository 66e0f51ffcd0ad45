import { decodeHeader, type HeaderFields } from '@geode/protocol';
import type { Hex } from 'viem';
import { LightClientError } from '../../errors.ts';
import type { ExecutionBlock } from './header.ts';

/**
 * The link from a verified beacon header to an execution-layer header: the execution payload header (proven under
 * the beacon block's body_root, header.ts) carries the execution block hash, so an execution header RLP whose
 * keccak256 is that hash is the block the beacon chain finalized, field for field (Yellow Paper §4.3).
 * 1. the RLP decodes as an execution header (protocol decodeHeader) — else LC_HEADER_DECODE;
 * 2. keccak256(rlp) equals `expected.hash`, and its number and stateRoot equal the payload header's — else
 *    LC_EXECUTION_BLOCK_MISMATCH.
 * Returns the header fields (the EIP-1186 proofs are then checked against `stateRoot`, proof.ts).
 */
export function verifyExecutionHeader(rlp: Hex, expected: ExecutionBlock): HeaderFields {
  const h = decodeHeader(rlp);
  if (h.hash !== expected.hash.toLowerCase() || h.number !== expected.number || h.stateRoot !== expected.stateRoot.toLowerCase()) {
    throw new LightClientError('LC_EXECUTION_BLOCK_MISMATCH', `Execution header ${h.number} (${h.hash}) is not the block the verified beacon header commits to (${expected.number}, ${expected.hash}); fetch eth_getBlockByNumber for that block.`, { details: { hash: h.hash, expected: expected.hash, number: h.number.toString(), expectedNumber: expected.number.toString() } });
  }
  return h;
}
