import { decodeAbiParameters, type Address, type Hex } from 'viem';
import { EPOCH, type Envelope } from '@geode/protocol';
import { EnclaveError } from './errors.ts';

/**
 * Rotation epochs of the request key, as the batch executor applies them (docs/protocol.md#rotation). Pure functions
 * of proven bytes and of the state's epoch, so every keyed instance reaches the same outcome:
 *
 *   1. A rotation is the public request kind "geode.rotate-epoch" (appended only by GeodeCore.requestRotation, from
 *      the admin, with body abi.encode(uint256 epoch)). It is taken when the sender is the attested config's admin
 *      and the body names exactly the state's epoch + 1; anything else is an ENCLAVE_BAD_REQUEST error output that
 *      changes nothing. A taken rotation sets the state's epoch and ends the batch (its commitment carries the new
 *      epoch's public key, epochCommitmentDigest).
 *   2. A private request names its epoch (0x03 envelope; 0x01 is epoch 0). With the state at epoch E it is read when
 *      E - graceEpochs <= epoch <= E; an older epoch gets ENCLAVE_EPOCH_RETIRED, a later one ENCLAVE_EPOCH_UNKNOWN
 *      (error outputs to the sender; the request changes nothing).
 */

/** The epoch a batch started and its X25519 request public key (0x bytes32). */
export interface EpochStart {
  epoch: number;
  encPubKey: Hex;
}

/**
 * The epoch `env` (a private envelope) is sealed to, checked against the state's epoch `current` (rule 2 above).
 * Throws EnclaveError ENCLAVE_EPOCH_UNKNOWN (a later epoch than the state's) or ENCLAVE_EPOCH_RETIRED (older than
 * the grace period), each telling the sender which epoch to re-encrypt to.
 */
export function epochOfEnvelope(env: Extract<Envelope, { kind: 'private' }>, seq: bigint, current: number): number {
  const epoch = env.epoch ?? 0;
  if (epoch > current) {
    throw new EnclaveError('ENCLAVE_EPOCH_UNKNOWN', `Request ${seq} is sealed to epoch ${epoch}, but the request key is at epoch ${current} when it is processed: re-encrypt it to epoch ${current} (see \`geode status\`, GeodeCore.currentEpoch()).`, { details: { seq: seq.toString(), epoch, current } });
  }
  if (epoch + EPOCH.graceEpochs < current) {
    throw new EnclaveError('ENCLAVE_EPOCH_RETIRED', `Request ${seq} is sealed to epoch ${epoch}, which is retired (the request key is at epoch ${current}; an epoch stays readable for ${EPOCH.graceEpochs} rotation after it ends): re-encrypt it to epoch ${current} (see \`geode status\`, GeodeCore.currentEpoch()).`, { details: { seq: seq.toString(), epoch, current } });
  }
  return epoch;
}

/**
 * The epoch a public request of `kind` starts, or null when it is no rotation request (rule 1 above). Throws
 * EnclaveError ENCLAVE_BAD_REQUEST for a "geode.rotate-epoch" request that is not the admin's, whose body is not
 * abi.encode(uint256), or that names another epoch than `current` + 1.
 */
export function rotationOf(kind: string, body: Hex, sender: Address, current: number, admin: Address | undefined): number | null {
  if (kind !== EPOCH.rotateKind) return null;
  if (admin === undefined || sender !== admin.toLowerCase()) {
    throw new EnclaveError('ENCLAVE_BAD_REQUEST', `${EPOCH.rotateKind} is taken only from the deployment's admin (GeodeCore.requestRotation); ${sender} is not it.`, { details: { sender } });
  }
  let epoch: bigint;
  try {
    [epoch] = decodeAbiParameters([{ type: 'uint256' }], body);
  } catch {
    throw new EnclaveError('ENCLAVE_BAD_REQUEST', `${EPOCH.rotateKind} body must be abi.encode(uint256 epoch).`);
  }
  if (body.length !== 2 + 64 || epoch !== BigInt(current) + 1n || current + 1 > EPOCH.max) {
    throw new EnclaveError('ENCLAVE_BAD_REQUEST', `${EPOCH.rotateKind} must name epoch ${current + 1} (the state is at epoch ${current}); it names ${epoch}.`, { details: { epoch: epoch.toString(), current } });
  }
  return current + 1;
}
