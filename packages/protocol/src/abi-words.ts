import { isAddress, isHex, type Address, type Hex } from 'viem';

/**
 * Fixed-layout Solidity ABI encoding (Solidity ABI spec, "Formal Specification of the Encoding": every static type is
 * one 32-byte word) for the hot protocol hashes. `abi.encode` of only static types is the concatenation of their
 * words, so a string concatenation gives exactly the bytes viem's encodeAbiParameters gives, without its generic
 * per-parameter machinery (which dominated the enclave's per-request hashing). Inputs are checked as
 * encodeAbiParameters checks them, so a value it would refuse is refused here too (RangeError / TypeError).
 */

const UINT256_MAX = (1n << 256n) - 1n;
const BYTES32_RE = /^0x[0-9a-fA-F]{64}$/;

/** One uint256 word: 64 lowercase hex digits, no 0x. Throws RangeError outside 0..2^256-1. */
export function uint256Word(v: bigint): string {
  if (typeof v !== 'bigint' || v < 0n || v > UINT256_MAX) throw new RangeError(`abi uint256: ${String(v)} is not an integer in 0..2^256-1`);
  return v.toString(16).padStart(64, '0');
}

/** One address word: 12 zero bytes then the 20 address bytes, lowercase hex, no 0x. Throws TypeError for a non-address (viem isAddress: a mixed-case address must carry a valid EIP-55 checksum). */
export function addressWord(a: Address): string {
  if (!isAddress(a)) throw new TypeError(`abi address: ${String(a)} is not a 20-byte 0x address (mixed case must be a valid EIP-55 checksum)`);
  return '000000000000000000000000' + a.slice(2).toLowerCase();
}

/** One bytes32 word: the 32 bytes as lowercase hex, no 0x. Throws TypeError unless exactly 32 bytes of 0x hex. */
export function bytes32Word(b: Hex): string {
  if (!isHex(b) || !BYTES32_RE.test(b)) throw new TypeError(`abi bytes32: ${String(b)} is not exactly 32 bytes of 0x hex`);
  return b.slice(2).toLowerCase();
}

/** abi.encode of static words: `0x` followed by the words in order. */
export function abiWords(...words: string[]): Hex {
  return `0x${words.join('')}`;
}
