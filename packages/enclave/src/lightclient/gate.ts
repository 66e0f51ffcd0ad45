import type { Hex } from 'viem';
import { ethereumAnchorHash, UNSIGNED_HEADER_SIGNATURE, type BeaconSyncJson, type EthereumAnchorJson, type HeaderFields, type SignedHeaderJson } from '@geode/protocol';
import { LightClientError } from '../errors.ts';
import { beaconConfigOf, checkAnchor, type EthereumTrustAnchor } from './ethereum/anchor.ts';
import { verifyExecutionHeader } from './ethereum/execution.ts';
import { storeFromJson, storeToJson, type BeaconStore, type BeaconStoreJson } from './ethereum/store.ts';
import { syncLightClient } from './ethereum/sync.ts';
import { verifySignedHeader, type TrustAnchor, type TrustedBlock } from './header.ts';

/**
 * The enclave's header gate (docs/enclave.md#light-client): the one place a method's header is believed. Two kinds,
 * chosen by the deployment config's anchor: the devnet's signed headers (header.ts) and Ethereum's sync committee
 * (ethereum/). `verify` is a pure predicate that throws a typed LC_* error and changes nothing; the method calls
 * `commit()` only after everything else it checks has passed, so the trusted light-client state moves exactly when
 * the method succeeds.
 */
export interface HeaderGate {
  verify(header: SignedHeaderJson, beacon: BeaconSyncJson | undefined): { header: HeaderFields; commit(): void };
  /** The latest execution block number this gate trusts (0 before the first success). */
  trustedNumber(): bigint;
}

/** Gate over devnet-signed (or trusted-RPC) headers; `beacon` data is refused. */
export function devnetGate(anchor: TrustAnchor): HeaderGate {
  let trusted: TrustedBlock = { number: 0n, hash: anchor.genesisHash };
  return {
    verify(header, beacon) {
      if (beacon !== undefined) throw new LightClientError('LC_BEACON_DECODE', 'This deployment\'s light client is not Ethereum\'s sync committee; send headers without beacon data.');
      const h = verifySignedHeader(trusted, header, anchor);
      return { header: h, commit: () => { trusted = { number: h.number, hash: h.hash }; } };
    },
    trustedNumber: () => trusted.number,
  };
}

/**
 * Gate over Ethereum's sync committee. `anchorJson` must hash (protocol ethereumAnchorHash) to `lcGenesisHash`, the
 * value the config hash covers — else LC_ANCHOR_INVALID. Each verify:
 * 1. the header carries the 65-byte zero signature (no block signer exists) — else LC_HEADER_SIGNATURE;
 * 2. the beacon data advances a copy of the store (bootstrap from the checkpoint when there is none yet; updates;
 *    finality update) — else that check's LC_* code;
 * 3. the header RLP is the execution block of the store's finalized header — else LC_EXECUTION_BLOCK_MISMATCH;
 * 4. its number is not below the trusted one — else LC_STALE_HEADER.
 * `sealed` (optional) keeps the store across restarts: `load` returns the last saved store (the enclave's own sealed
 * file, authenticated by the sealing key, so believed) and `save` is called on commit when the store moved. An
 * unreadable saved store is ignored (the host then bootstraps again from the checkpoint).
 */
export function ethereumGate(anchorJson: EthereumAnchorJson | undefined, lcGenesisHash: Hex, sealed?: { load(): BeaconStoreJson | null; save(j: BeaconStoreJson): void; log?(line: string): void }): HeaderGate {
  if (!anchorJson) throw new LightClientError('LC_ANCHOR_INVALID', 'The config names the Ethereum light client but carries no ethereumAnchor; pass the anchor the deployment was made with.');
  const hash = ethereumAnchorHash(anchorJson);
  if (hash !== lcGenesisHash.toLowerCase()) {
    throw new LightClientError('LC_ANCHOR_INVALID', 'The config\'s ethereumAnchor does not hash to its lcGenesisHash; the host sent another anchor than the deployment\'s.', { details: { hash, lcGenesisHash } });
  }
  const anchor: EthereumTrustAnchor = checkAnchor(anchorJson as EthereumTrustAnchor);
  const config = beaconConfigOf(anchor);
  let store: BeaconStore | null = null;
  try {
    const j = sealed?.load();
    if (j) store = storeFromJson(config, j);
  } catch (e) {
    sealed?.log?.(`ignoring the sealed light-client store: ${(e as Error).message}`);
  }
  let trusted = 0n;
  return {
    verify(header, beacon) {
      if (header.signature.toLowerCase() !== UNSIGNED_HEADER_SIGNATURE) throw new LightClientError('LC_HEADER_SIGNATURE', 'Ethereum deployments have no block signer: headers must carry the 65-byte zero signature.');
      const r = syncLightClient(anchor, store, beacon ?? {}, config);
      const h = verifyExecutionHeader(header.rlp as Hex, r.finalized.execution);
      if (h.number < trusted) throw new LightClientError('LC_STALE_HEADER', `Header ${h.number} is older than the trusted block ${trusted}.`, { details: { number: h.number.toString(), trusted: trusted.toString() } });
      return {
        header: h,
        commit: () => {
          const moved = !store || r.store.finalizedHeader !== store.finalizedHeader || r.store.nextSyncCommittee !== store.nextSyncCommittee;
          store = r.store;
          trusted = h.number;
          if (moved) sealed?.save(storeToJson(config, store));
        },
      };
    },
    trustedNumber: () => trusted,
  };
}
