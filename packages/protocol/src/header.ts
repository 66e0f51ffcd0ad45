import { fromRlp, hexToBigInt, keccak256, toRlp, type Hex } from 'viem';
import { defineError } from './errors.ts';

/**
 * Execution-layer block headers as RLP (Ethereum Yellow Paper §4.3, with the fields added by
 * EIP-1559 baseFee, EIP-4895 withdrawalsRoot, EIP-4844 blobGasUsed/excessBlobGas, EIP-4788
 * parentBeaconBlockRoot, EIP-7685 requestsHash). blockHash = keccak256(rlp(header)).
 */

/** The header fields the light client uses. All hashes 0x hex bytes32. */
export interface HeaderFields {
  hash: Hex;
  parentHash: Hex;
  stateRoot: Hex;
  number: bigint;
  /** Unix seconds. */
  timestamp: bigint;
}

/** JSON-RPC block object (eth_getBlockByNumber), the subset needed to rebuild the header. */
export interface RpcBlockHeader {
  parentHash: Hex; sha3Uncles: Hex; miner: Hex; stateRoot: Hex; transactionsRoot: Hex; receiptsRoot: Hex;
  logsBloom: Hex; difficulty: Hex; number: Hex; gasLimit: Hex; gasUsed: Hex; timestamp: Hex; extraData: Hex;
  mixHash: Hex; nonce: Hex; baseFeePerGas?: Hex; withdrawalsRoot?: Hex; blobGasUsed?: Hex; excessBlobGas?: Hex;
  parentBeaconBlockRoot?: Hex; requestsHash?: Hex; hash?: Hex;
}

/** Thrown when header bytes are not a well-formed RLP list of header fields. */
export class HeaderDecodeError extends defineError({
  codes: ['LC_HEADER_DECODE'],
  docsPath: 'protocol.md#headers',
  build: (message: string, details?: Record<string, unknown>) => ({ code: 'LC_HEADER_DECODE', message: `Block header could not be decoded: ${message}. Pass the RLP of an execution-layer header.`, details }),
}) {}

const q = (x: Hex): Hex => {
  // RLP scalars are minimal big-endian: 0 is the empty string, no leading zero bytes.
  const v = hexToBigInt(x);
  if (v === 0n) return '0x';
  const s = v.toString(16);
  return `0x${s.length % 2 ? '0' : ''}${s}`;
};

/**
 * RLP-encode a JSON-RPC block header (post-Prague layout; optional tail fields are included when present,
 * in order, as clients do). Returns 0x hex. Throws HeaderDecodeError if a required field is missing.
 */
export function encodeHeaderRlp(b: RpcBlockHeader): Hex {
  const req = ['parentHash', 'sha3Uncles', 'miner', 'stateRoot', 'transactionsRoot', 'receiptsRoot', 'logsBloom', 'difficulty', 'number', 'gasLimit', 'gasUsed', 'timestamp', 'extraData', 'mixHash', 'nonce'] as const;
  for (const k of req) if (typeof b[k] !== 'string') throw new HeaderDecodeError(`missing field ${k}`);
  const fields: Hex[] = [
    b.parentHash, b.sha3Uncles, b.miner, b.stateRoot, b.transactionsRoot, b.receiptsRoot, b.logsBloom,
    q(b.difficulty), q(b.number), q(b.gasLimit), q(b.gasUsed), q(b.timestamp), b.extraData, b.mixHash, b.nonce,
  ];
  const tail: [keyof RpcBlockHeader, boolean][] = [
    ['baseFeePerGas', true], ['withdrawalsRoot', false], ['blobGasUsed', true], ['excessBlobGas', true],
    ['parentBeaconBlockRoot', false], ['requestsHash', false],
  ];
  for (const [k, scalar] of tail) {
    const v = b[k];
    if (v === undefined || v === null) break;
    fields.push(scalar ? q(v) : v);
  }
  return toRlp(fields);
}

/**
 * Decode header RLP (0x hex) and compute its hash. Throws HeaderDecodeError on malformed input.
 */
export function decodeHeader(rlp: Hex): HeaderFields {
  let list: unknown;
  try {
    list = fromRlp(rlp, 'hex');
  } catch (e) {
    throw new HeaderDecodeError('not valid RLP', { cause: String(e) });
  }
  if (!Array.isArray(list) || list.length < 15 || list.some((x) => typeof x !== 'string')) throw new HeaderDecodeError('expected an RLP list of at least 15 byte strings');
  const f = list as Hex[];
  const b32 = (x: Hex, name: string): Hex => {
    if (x.length !== 66) throw new HeaderDecodeError(`${name} must be 32 bytes`);
    return x;
  };
  // Block number and timestamp are 64-bit in every execution client (EIP-1985's sane limits): a longer scalar, or
  // one with a leading zero byte (not canonical RLP), is refused here rather than overflowing a later encoder.
  const u64 = (x: Hex, name: string): bigint => {
    if (x === '0x') return 0n;
    if (x.length > 2 + 16) throw new HeaderDecodeError(`${name} is longer than 8 bytes`);
    if (x.startsWith('0x00')) throw new HeaderDecodeError(`${name} has a leading zero byte (not canonical RLP)`);
    return hexToBigInt(x);
  };
  return {
    hash: keccak256(rlp),
    parentHash: b32(f[0]!, 'parentHash'),
    stateRoot: b32(f[3]!, 'stateRoot'),
    number: u64(f[8]!, 'number'),
    timestamp: u64(f[11]!, 'timestamp'),
  };
}
