import { encodeAbiParameters, keccak256, numberToHex, type Hex } from 'viem';
import { SESSION_FIELD, SLOT } from './constants.ts';

/**
 * Storage keys (bytes32, 0x hex) of GeodeCore's variables, as eth_getProof expects them.
 * Mapping value slot = keccak256(abi.encode(key, mappingSlot)) (Solidity docs, "Layout of State Variables in Storage").
 */
export const slotKey = (slot: bigint): Hex => numberToHex(slot, { size: 32 });

/** Slot of `mapping(uint256 => T)` at `mappingSlot` for `key`. */
export function mappingSlot(key: bigint, mappingSlot: bigint): bigint {
  return BigInt(keccak256(encodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }], [key, mappingSlot])));
}

/** Storage key of accAt[seq]. */
export const accAtKey = (seq: bigint): Hex => slotKey(mappingSlot(seq, SLOT.accAt));

/** Storage key of sessions[id].<field>. */
export const sessionFieldKey = (id: bigint, field: keyof typeof SESSION_FIELD): Hex => slotKey(mappingSlot(id, SLOT.sessions) + SESSION_FIELD[field]);

/** The storage keys a batch proof must cover, in this order: requestCount, committedSeq, stateRoot, activeSessionId, accAt[to]. */
export function batchProofKeys(to: bigint): Hex[] {
  return [slotKey(SLOT.requestCount), slotKey(SLOT.committedSeq), slotKey(SLOT.stateRoot), slotKey(SLOT.activeSessionId), accAtKey(to)];
}

/** The storage keys a SessionSetPubKey proof must cover: sessions[id].nonce and sessions[id].status. */
export function sessionProofKeys(id: bigint): Hex[] {
  return [sessionFieldKey(id, 'nonce'), sessionFieldKey(id, 'status')];
}
