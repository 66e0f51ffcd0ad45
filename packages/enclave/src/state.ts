import { encodeAbiParameters, keccak256, toBytes, type Address, type Hex } from 'viem';
import { ACC_ZERO, ROOT_ZERO, canonicalJson } from '@geode/protocol';

/**
 * The enclave's state: a framework part (what it has processed and the users' output keys) and the app's state.
 * Both are plain JSON data; everything that is hashed goes through protocol canonicalJson.
 */
export interface FrameworkState {
  /** Sequence number of the last request processed (0 = none). */
  lastSeq: bigint;
  /** acc(lastSeq), 0x bytes32. */
  lastAcc: Hex;
  /** Registered output keys: lowercase 0x address -> X25519 public key (0x, 32 bytes). */
  outputKeys: Record<Address, Hex>;
  /**
   * keyId (protocol keyIdOf, 0x bytes32) of the key material that produced this state; null only in the empty state.
   * The root commits to it, and an enclave refuses to continue a state whose keyId is not its own
   * (ENCLAVE_KEYS_MISMATCH, docs/security.md#state-is-bound-to-its-keys).
   */
  keyId: Hex | null;
}

/** The whole enclave state. */
export interface EnclaveState<S = unknown> {
  framework: FrameworkState;
  app: S;
}

/** The empty state: lastSeq 0, acc(0), no keys, the app's initial state. Its root is ROOT_ZERO. */
export function emptyState<S>(initialApp: S): EnclaveState<S> {
  return { framework: { lastSeq: 0n, lastAcc: ACC_ZERO, outputKeys: {}, keyId: null }, app: initialApp };
}

/** Canonical JSON of the framework state (lastSeq as the canonicalJson bigint form "n:<decimal>"). */
export const frameworkJson = (f: FrameworkState): string => canonicalJson({ lastSeq: f.lastSeq, lastAcc: f.lastAcc, outputKeys: f.outputKeys, keyId: f.keyId });

/**
 * stateRoot = keccak256(abi.encode(uint256 lastSeq, bytes32 lastAcc, keccak256(canonicalJson(framework)),
 * keccak256(canonicalJson(app)))), except the empty state (lastSeq == 0) whose root is ROOT_ZERO (0x00..00), so a
 * freshly deployed contract (stateRoot 0) matches an enclave with no sealed state. Returns 0x bytes32.
 * Throws TypeError if the app state is not JSON-representable.
 */
export function stateRoot(s: EnclaveState): Hex {
  if (s.framework.lastSeq === 0n) return ROOT_ZERO;
  return keccak256(
    encodeAbiParameters(
      [{ type: 'uint256' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }],
      [s.framework.lastSeq, s.framework.lastAcc, keccak256(toBytes(frameworkJson(s.framework))), keccak256(toBytes(canonicalJson(s.app)))],
    ),
  );
}

/** Serialise a state for sealing: UTF-8 canonical JSON of { framework, app }. */
export function serializeState(s: EnclaveState): Uint8Array {
  return new TextEncoder().encode(canonicalJson({ framework: s.framework, app: s.app }));
}

/**
 * Inverse of serializeState. Bigints in the *framework* part are restored; the app state is returned as parsed
 * JSON (apps keep plain JSON data only). Throws on malformed input (callers map it to ENCLAVE_SEAL_CORRUPT).
 */
export function deserializeState(b: Uint8Array): EnclaveState {
  const v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b)) as { framework: { lastSeq: string; lastAcc: Hex; outputKeys: Record<Address, Hex>; keyId: Hex | null }; app: unknown };
  const ls = v.framework?.lastSeq;
  if (typeof ls !== 'string' || !/^n:(0|[1-9][0-9]*)$/.test(ls)) throw new Error('framework.lastSeq malformed');
  if (typeof v.framework.lastAcc !== 'string' || !/^0x[0-9a-f]{64}$/.test(v.framework.lastAcc)) throw new Error('framework.lastAcc malformed');
  if (!v.framework.outputKeys || typeof v.framework.outputKeys !== 'object') throw new Error('framework.outputKeys malformed');
  const keyId = v.framework.keyId;
  if (keyId !== null && (typeof keyId !== 'string' || !/^0x[0-9a-f]{64}$/.test(keyId))) throw new Error('framework.keyId malformed');
  return { framework: { lastSeq: BigInt(ls.slice(2)), lastAcc: v.framework.lastAcc, outputKeys: v.framework.outputKeys, keyId }, app: v.app };
}
