import { encodeAbiParameters, keccak256, type Address, type Hex } from 'viem';
import { DOMAIN, SLOT } from './constants.ts';
import { slotKey } from './slots.ts';

/**
 * Backup of the key material to the deployment's recovery key (docs/protocol.md#backup): the disaster path when every
 * keyed instance is gone. Pure functions and the backup file format, shared by the exporting enclave, the CLI that
 * restores, and the newcomer that imports. The file format is `backupFile` (messages.ts).
 */

/**
 * HPKE additional data (bytes, 0x hex) of a backup: abi.encode(DOMAIN.backup, chainId, contract, sessionId, encPubKey,
 * signer, mrEnclave, recoveryKey), where `sessionId`, `encPubKey` and `signer` are the session the key material belongs
 * to, `mrEnclave` the exporting instance's measurement (32 bytes) and `recoveryKey` the X25519 public key it is sealed
 * to. The blob opens only with every one of these as the file states them (RFC 9180 §5.2: the AAD is authenticated).
 */
export function backupAad(chainId: bigint, contract: Address, sessionId: bigint, encPubKey: Hex, signer: Address, mrEnclave: Hex, recoveryKey: Hex): Hex {
  return encodeAbiParameters(
    [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'uint256' }, { type: 'bytes32' }, { type: 'address' }, { type: 'bytes32' }, { type: 'bytes32' }],
    [DOMAIN.backup, chainId, contract, sessionId, encPubKey, signer, mrEnclave, recoveryKey],
  );
}

/** keccak256 of backupAad, 0x bytes32 (what a person compares when two copies of a backup are in doubt). */
export const backupAadHash = (...a: Parameters<typeof backupAad>): Hex => keccak256(backupAad(...a));

/** Storage key (0x bytes32, for eth_getProof) of GeodeCore `recoveryKey`. */
export const recoveryKeySlotKey = (): Hex => slotKey(SLOT.recoveryKey);
