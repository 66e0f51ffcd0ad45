import { getAbiItem, type Address, type Hex } from 'viem';
import type { Logger } from 'pino';
import { batchProofKeys, type LogRequestJson } from '@geode/protocol';
import { GeodeCoreAbi } from '@geode/contracts';
import type { ChainAccess } from './chain.ts';
import type { EnclaveProcess } from './enclave.ts';
import { storageProof } from './handover.ts';

/** A committed batch as the BatchCommitted event and its block give it. */
export interface CommittedBatch {
  from: bigint; to: bigint; prevRoot: Hex; newRoot: Hex;
  /** Block that included the commitment. */
  block: bigint;
}

const COMMITTED = getAbiItem({ abi: GeodeCoreAbi, name: 'BatchCommitted' });

/** How many blocks below the commitment a follower tries before it gives up on one batch (see {@link Follower.step}). */
export const FOLLOW_MAX_TRIES = 16;

/** What the follower needs from its host. */
export interface FollowerOptions {
  chain: ChainAccess;
  contract: Address;
  enclave: EnclaveProcess;
  fromBlock: bigint;
  logger: Logger;
  /** Requests [from, to] from the host's log scan, up to block `atBlock`. */
  requests(from: bigint, to: bigint, atBlock: bigint): Promise<LogRequestJson[]>;
  /** The root the enclave last processed a batch from (its sealed predecessor state), if this host knows it. */
  basis(): Hex | undefined;
  /** Requests [from, to] were followed: the host may forget them. */
  followed(from: bigint, to: bigint): void;
}

/**
 * Follow mode of a keyed instance (docs/protocol.md#takeover): re-execute every batch another instance committed, so
 * this instance's own store always holds the committed state and it can continue from the committed root the moment
 * the committing instance disappears. A batch is re-executed with `expectNewRoot` = its committed newRoot, at the block
 * just below the commitment, then lower ones (the committing host chose its block, and an app may read it); the enclave
 * refuses (ENCLAVE_FOLLOW_MISMATCH, nothing changes) until the root matches. The follower never commits.
 */
export class Follower {
  /** Committed batches by prevRoot (roots are unique: a state root commits to its lastSeq). */
  private byPrevRoot = new Map<Hex, CommittedBatch>();
  private scannedTo: bigint;

  constructor(private readonly o: FollowerOptions) {
    this.scannedTo = o.fromBlock - 1n;
  }

  private async scan(toBlock: bigint): Promise<void> {
    if (toBlock <= this.scannedTo) return;
    const logs = await this.o.chain.publicClient.getLogs({ address: this.o.contract, event: COMMITTED, fromBlock: this.scannedTo + 1n, toBlock });
    for (const l of logs) {
      const a = l.args as { from: bigint; to: bigint; prevRoot: Hex; newRoot: Hex };
      const prevRoot = a.prevRoot.toLowerCase() as Hex;
      this.byPrevRoot.set(prevRoot, { from: a.from, to: a.to, prevRoot, newRoot: a.newRoot.toLowerCase() as Hex, block: l.blockNumber! });
    }
    this.scannedTo = toBlock;
  }

  /**
   * If the enclave's state root is not the chain's `chainRoot` at `head`, re-execute the next committed batch it can
   * continue (prevRoot = its root, or the root it last processed from). Returns true if it followed one batch.
   * Throws the enclave's errors other than ENCLAVE_FOLLOW_MISMATCH.
   */
  async step(head: bigint, chainRoot: Hex): Promise<boolean> {
    const st = await this.o.enclave.call('status');
    if (st.stateRoot.toLowerCase() === chainRoot.toLowerCase()) return false;
    await this.scan(head);
    const basis = this.o.basis()?.toLowerCase() as Hex | undefined;
    const next = this.byPrevRoot.get(st.stateRoot.toLowerCase() as Hex) ?? (basis ? this.byPrevRoot.get(basis) : undefined);
    if (!next) return false;
    const requests = await this.o.requests(next.from, next.to, next.block);
    for (let b = next.block - 1n, tries = 0; b >= 0n && tries < FOLLOW_MAX_TRIES; b--, tries++) {
      const h = await this.o.chain.getSignedHeader(b);
      const proof = await storageProof(this.o.chain.publicClient, this.o.contract, batchProofKeys(next.to), h.number);
      try {
        await this.o.enclave.call('processBatch', { header: { rlp: h.rlp, signature: h.signature }, proof, requests, expectNewRoot: next.newRoot });
        this.o.logger.info({ from: next.from.toString(), to: next.to.toString(), block: b.toString() }, 'followed a committed batch');
        for (const [k, v] of this.byPrevRoot) if (v.to <= next.to) this.byPrevRoot.delete(k); // history behind us
        this.o.followed(next.from, next.to);
        return true;
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENCLAVE_FOLLOW_MISMATCH') throw e;
      }
    }
    this.o.logger.warn({ from: next.from.toString(), to: next.to.toString() }, `no block within ${FOLLOW_MAX_TRIES} below the commitment reproduces its root`);
    return false;
  }
}
