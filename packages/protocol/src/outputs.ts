import { decodeAbiParameters, encodeAbiParameters, keccak256, type Address, type Hex } from 'viem';

/** One encrypted output of a batch: HPKE ciphertext (0x enc(32) || ct) for `recipient`, caused by request `seq`. */
export interface BatchOutput {
  recipient: Address;
  seq: bigint;
  ciphertext: Hex;
}

const OUTPUTS_ABI = [{ type: 'tuple[]', components: [{ name: 'recipient', type: 'address' }, { name: 'seq', type: 'uint256' }, { name: 'ciphertext', type: 'bytes' }] }] as const;

/** abi.encode(Output[]) — the `outputs` bytes of a commitment; outputsHash = keccak256 of it. */
export function encodeOutputs(outputs: readonly BatchOutput[]): Hex {
  return encodeAbiParameters(OUTPUTS_ABI, [outputs.map((o) => ({ recipient: o.recipient, seq: o.seq, ciphertext: o.ciphertext }))]);
}

/** Inverse of encodeOutputs. Throws viem's AbiDecodingError on malformed bytes. */
export function decodeOutputs(data: Hex): BatchOutput[] {
  const [list] = decodeAbiParameters(OUTPUTS_ABI, data);
  return list.map((o) => ({ recipient: o.recipient, seq: o.seq, ciphertext: o.ciphertext }));
}

/** keccak256(encodeOutputs(outputs)). `hash`: a Keccak-256 implementation (default viem's; the enclave passes its WebAssembly one, same digests). */
export const outputsHash = (encoded: Hex, hash: (data: Hex) => Hex = keccak256): Hex => hash(encoded);
