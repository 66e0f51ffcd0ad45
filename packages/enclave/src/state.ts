import { hexToBytes, type Address, type Hex } from 'viem';
import { ACC_ZERO } from '@geode/protocol';
import { EnclaveError } from './errors.ts';
import { encodeKey } from './store/key.ts';
import { decodeValue, encodeValue } from './store/value.ts';

/**
 * The framework's part of the enclave state (docs/protocol.md#state-root): a few keys of the authenticated store
 * under the reserved namespace "geode", next to the app's keys (namespace = the app's name). The state root the
 * chain holds is the store's root, so it commits to these keys and to the app's keys alike.
 *
 * Keys (store/key.ts tuple encoding) and values (store/value.ts canonical JSON):
 *   ["geode", "lastSeq"]                    decimal string of the last processed sequence number ("12")
 *   ["geode", "lastAcc"]                    acc(lastSeq), 0x lowercase hex bytes32
 *   ["geode", "keyId"]                      keyId (protocol keyIdOf) of the key material that produced the state
 *   ["geode", "outputKey", address (bytes)] registered X25519 output key of `address` (20 raw bytes), 0x hex bytes32
 *   ["geode", "epoch"]                      rotation epoch (decimal string), absent = 0 (docs/protocol.md#rotation)
 *   ["geode", "epochSeq"]                   sequence number of the rotation request that started that epoch
 * The empty store (no key at all) is the state before the first request: lastSeq 0, acc ACC_ZERO, no keyId, epoch 0.
 */
export const FRAMEWORK_NAMESPACE = 'geode';

/** What the runtime checks a batch against, read from the store at its base root. */
export interface FrameworkState {
  /** Sequence number of the last request processed (0 = none). */
  lastSeq: bigint;
  /** acc(lastSeq), 0x bytes32. */
  lastAcc: Hex;
  /**
   * keyId (protocol keyIdOf, 0x bytes32) of the key material that produced this state; null only in the empty state.
   * The root commits to it, and an enclave refuses to continue a state whose keyId is not its own
   * (ENCLAVE_KEYS_MISMATCH, docs/security.md#state-is-bound-to-its-keys).
   */
  keyId: Hex | null;
  /** Rotation epoch of the request key (docs/protocol.md#rotation); 0 until the first rotation request. */
  epoch?: number;
  /** Sequence number of the rotation request that started `epoch` (0 for epoch 0). */
  epochSeq?: bigint;
}

/** Raw store keys of the framework records. */
export const FRAMEWORK_KEYS = {
  lastSeq: encodeKey([FRAMEWORK_NAMESPACE, 'lastSeq']),
  lastAcc: encodeKey([FRAMEWORK_NAMESPACE, 'lastAcc']),
  keyId: encodeKey([FRAMEWORK_NAMESPACE, 'keyId']),
  epoch: encodeKey([FRAMEWORK_NAMESPACE, 'epoch']),
  epochSeq: encodeKey([FRAMEWORK_NAMESPACE, 'epochSeq']),
  /** Key of `address`'s registered output key (lowercase 0x address). */
  outputKey: (address: Address): Uint8Array => encodeKey([FRAMEWORK_NAMESPACE, 'outputKey', hexToBytes(address)]),
};

/** Reads raw values through a batch (StateBatch.read). */
type Read = (key: Uint8Array) => Promise<Uint8Array | undefined>;

const HEX32 = /^0x[0-9a-f]{64}$/;

function corrupt(what: string): EnclaveError {
  return new EnclaveError('ENCLAVE_SEAL_CORRUPT', `The framework record ${what} in the state store is malformed although it authenticated; the store was written by an incompatible build. Start from an empty data directory.`, { details: { record: what } });
}

async function readUint(read: Read, key: Uint8Array, what: string): Promise<bigint | null> {
  const raw = await read(key);
  if (raw === undefined) return null;
  const v = decodeValue(raw);
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(v)) throw corrupt(what);
  return BigInt(v);
}

async function readHex(read: Read, key: Uint8Array, what: string): Promise<Hex | null> {
  const b = await read(key);
  if (b === undefined) return null;
  const v = decodeValue(b);
  if (typeof v !== 'string' || !HEX32.test(v)) throw corrupt(what);
  return v as Hex;
}

/** The framework state at the batch's base. Throws ENCLAVE_SEAL_CORRUPT for malformed records. */
export async function readFramework(read: Read): Promise<FrameworkState> {
  const raw = await read(FRAMEWORK_KEYS.lastSeq);
  let lastSeq = 0n;
  if (raw !== undefined) {
    const v = decodeValue(raw);
    if (typeof v !== 'string' || !/^(0|[1-9][0-9]*)$/.test(v)) throw corrupt('lastSeq');
    lastSeq = BigInt(v);
  }
  const lastAcc = (await readHex(read, FRAMEWORK_KEYS.lastAcc, 'lastAcc')) ?? ACC_ZERO;
  const keyId = await readHex(read, FRAMEWORK_KEYS.keyId, 'keyId');
  if (lastSeq === 0n ? keyId !== null : keyId === null) throw corrupt('keyId');
  const epoch = (await readUint(read, FRAMEWORK_KEYS.epoch, 'epoch')) ?? 0n;
  const epochSeq = (await readUint(read, FRAMEWORK_KEYS.epochSeq, 'epochSeq')) ?? 0n;
  if (epoch > 0xffffffffn || (epoch === 0n) !== (epochSeq === 0n) || epochSeq > lastSeq) throw corrupt('epoch');
  return { lastSeq, lastAcc, keyId, epoch: Number(epoch), epochSeq };
}

/** The output key `address` registered, or null. Throws ENCLAVE_SEAL_CORRUPT for a malformed record. */
export function readOutputKey(read: Read, address: Address): Promise<Hex | null> {
  return readHex(read, FRAMEWORK_KEYS.outputKey(address), 'outputKey');
}

/** Encoded framework values (what goes into the store). */
export const frameworkValue = {
  seq: (v: bigint): Uint8Array => encodeValue(v.toString()),
  hex: (v: Hex): Uint8Array => encodeValue(v.toLowerCase()),
};
