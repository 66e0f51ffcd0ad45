import { encodeAbiParameters, keccak256, type Address, type Hex } from 'viem';
import { DOMAIN, SLOT } from './constants.ts';
import { mappingSlot, slotKey } from './slots.ts';

/**
 * Key handover between attested instances (docs/protocol.md#handover). Every function is pure and mirrors a Solidity
 * expression of GeodeCore (`keccak256(abi.encode(...))`, Solidity ABI spec) where the contract computes it too.
 */

/**
 * REPORTDATA[0..32) of a newcomer's handover request (GeodeCore.requestHandover):
 * keccak256(abi.encode(DOMAIN.handoverRequest, chainId, contract, configHash, mrEnclave, handoverPubKey)), where
 * `mrEnclave` is the newcomer's own measurement (32 bytes) and `handoverPubKey` the X25519 public key (RFC 7748, 32
 * bytes) the key material is to be sealed to. REPORTDATA[32..64) is zero. The contract stores this value as
 * `handoverRequests[id]`. All 0x hex; returns 0x bytes32.
 */
export function handoverRequestReportData(chainId: bigint, contract: Address, cfgHash: Hex, mrEnclave: Hex, handoverPubKey: Hex): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }],
      [DOMAIN.handoverRequest, chainId, contract, cfgHash, mrEnclave, handoverPubKey],
    ),
  );
}

/**
 * HPKE additional data (bytes) of a handover message: abi.encode(DOMAIN.handoverMessage, chainId, contract, requestId,
 * senderMrEnclave, recipientMrEnclave, handoverPubKey). A message opens only for this deployment, this request and
 * these two measurements. Returns 0x hex (7 ABI words).
 */
export function handoverAad(chainId: bigint, contract: Address, requestId: bigint, senderMrEnclave: Hex, recipientMrEnclave: Hex, handoverPubKey: Hex): Hex {
  return encodeAbiParameters(
    [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'uint256' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }],
    [DOMAIN.handoverMessage, chainId, contract, requestId, senderMrEnclave, recipientMrEnclave, handoverPubKey],
  );
}

/**
 * REPORTDATA[0..32) of the sender's evidence over a handover message: keccak256(abi.encode(DOMAIN.handoverSender,
 * chainId, contract, requestId, keccak256(enc || ciphertext), encPubKey, signer)): the sender attests that it sent this
 * exact message for this request and that the keys inside are the session keys (encPubKey, signer). REPORTDATA[32..64)
 * is zero. All 0x hex; returns 0x bytes32.
 */
export function handoverSenderReportData(chainId: bigint, contract: Address, requestId: bigint, messageHash: Hex, encPubKey: Hex, signer: Address): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'uint256' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'address' }],
      [DOMAIN.handoverSender, chainId, contract, requestId, messageHash, encPubKey, signer],
    ),
  );
}

/** Storage key (0x bytes32, for eth_getProof) of GeodeCore `handoverRequests[id]`. */
export const handoverRequestKey = (id: bigint): Hex => slotKey(mappingSlot(id, SLOT.handoverRequests));
