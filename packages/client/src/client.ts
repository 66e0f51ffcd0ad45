import { BaseError, ContractFunctionRevertedError, bytesToHex, getAbiItem, hexToBytes, parseEventLogs, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { decodeOutputs, encodeEnvelope, HPKE_INFO, hpkeOpen, hpkeSeal, outputAad, requestAad } from '@geode/protocol';
import { GeodeCoreAbi } from '@geode/contracts/generated/artifacts';
import type { Identity } from './identity.ts';
import type { TrustedSession } from './session.ts';
import { TransactionRevertedError } from './errors.ts';
import { decodeClientOutput, waitForCommitted, type ClientOutput, type WaitOptions } from './outputs.ts';

/** An output addressed to this client, decrypted. */
export interface ReceivedOutput {
  seq: bigint;
  sessionId: bigint;
  block: bigint;
  plaintext: Uint8Array;
}

/** Options of GeodeClient. */
export interface ClientOptions {
  publicClient: PublicClient;
  wallet: (account: Account) => WalletClient<Transport, Chain, Account>;
  chainId: bigint;
  contract: Address;
  identity: Identity;
  /** A session verified with verifyActiveSession. */
  session: TrustedSession;
}

const COMMITTED = getAbiItem({ abi: GeodeCoreAbi, name: 'BatchCommitted' });

/** Turn a viem contract error into TransactionRevertedError carrying the custom error name. */
export function explainRevert(what: string, e: unknown): never {
  if (e instanceof BaseError) {
    const rev = e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
    if (rev) throw new TransactionRevertedError(what, rev.data?.errorName ?? rev.reason ?? 'reverted', { error: rev.data?.errorName, args: rev.data?.args?.map(String) });
    throw new TransactionRevertedError(what, e.shortMessage);
  }
  throw e;
}

/**
 * A user's handle on one Geode application contract: encrypts requests to the verified session (HPKE with
 * additional data binding chain id, contract, session and sender), submits them, and decrypts outputs
 * addressed to it from BatchCommitted events.
 */
export class GeodeClient {
  readonly account: Account;
  private readonly wallet: WalletClient<Transport, Chain, Account>;
  private readonly outputSecret: Uint8Array;

  constructor(private readonly o: ClientOptions) {
    this.account = privateKeyToAccount(o.identity.privateKey);
    this.wallet = o.wallet(this.account);
    this.outputSecret = hexToBytes(o.identity.outputKey.privateKey);
  }

  get address(): Address {
    return this.account.address;
  }

  /** Seal `plaintext` to the session: payload = 0x01 || enc || ciphertext (protocol envelope). */
  async seal(plaintext: Uint8Array): Promise<Hex> {
    const aad = hexToBytes(requestAad(this.o.chainId, this.o.contract, this.o.session.sessionId, this.account.address));
    const { enc, ciphertext } = await hpkeSeal(hexToBytes(this.o.session.encPubKey), HPKE_INFO.request, aad, plaintext);
    return bytesToHex(encodeEnvelope({ kind: 'private', enc, ciphertext }));
  }

  /** Encrypt and submit a private request. Resolves with its sequence number once mined. Throws TransactionRevertedError. */
  async submit(plaintext: Uint8Array): Promise<{ seq: bigint; block: bigint; hash: Hex }> {
    const payload = await this.seal(plaintext);
    return this.sendAndSeq('submitRequest', [payload], 'Request');
  }

  /** Register this identity's output key with the enclave (a public request). */
  async registerOutputKey(): Promise<{ seq: bigint; block: bigint; hash: Hex }> {
    return this.sendAndSeq('registerOutputKey', [this.o.identity.outputKey.publicKey], 'Output key registration');
  }

  /** Send a contract call that appends a request; returns the seq from its RequestSubmitted event. */
  async sendAndSeq(functionName: string, args: readonly unknown[], what: string, abi: readonly unknown[] = GeodeCoreAbi): Promise<{ seq: bigint; block: bigint; hash: Hex }> {
    let hash: Hex;
    try {
      hash = await this.wallet.writeContract({ address: this.o.contract, abi: abi as never, functionName: functionName as never, args: args as never } as never);
    } catch (e) {
      explainRevert(what, e);
    }
    const r = await this.o.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (r.status !== 'success') {
      // Re-run as a call to learn the custom error.
      try {
        await this.o.publicClient.simulateContract({ account: this.account, address: this.o.contract, abi: abi as never, functionName: functionName as never, args: args as never, blockNumber: r.blockNumber - 1n } as never);
      } catch (e) {
        explainRevert(what, e);
      }
      throw new TransactionRevertedError(what, 'reverted', { hash });
    }
    const ev = parseEventLogs({ abi: GeodeCoreAbi, logs: r.logs, eventName: 'RequestSubmitted' })[0];
    return { seq: (ev?.args as { seq: bigint } | undefined)?.seq ?? 0n, block: r.blockNumber, hash };
  }

  /**
   * Outputs addressed to this identity in BatchCommitted events from `fromBlock`, decrypted, in seq order.
   * Outputs that fail to decrypt (not for this key) are skipped.
   */
  async readOutputs(fromBlock = 0n): Promise<ReceivedOutput[]> {
    const logs = await this.o.publicClient.getLogs({ address: this.o.contract, event: COMMITTED, fromBlock, toBlock: 'latest' });
    const me = this.account.address.toLowerCase();
    const out: ReceivedOutput[] = [];
    for (const l of logs) {
      const a = l.args as { sessionId: bigint; outputs: Hex };
      for (const o of decodeOutputs(a.outputs)) {
        if (o.recipient.toLowerCase() !== me) continue;
        const ct = hexToBytes(o.ciphertext);
        const aad = hexToBytes(outputAad(this.o.chainId, this.o.contract, a.sessionId, this.account.address, o.seq));
        try {
          const plaintext = await hpkeOpen(this.outputSecret, ct.subarray(0, 32), HPKE_INFO.output, aad, ct.subarray(32));
          out.push({ seq: o.seq, sessionId: a.sessionId, block: l.blockNumber ?? 0n, plaintext });
        } catch {
          // Not decryptable with our key: ignore (a forged or misaddressed output).
        }
      }
    }
    return out.sort((x, y) => (x.seq < y.seq ? -1 : x.seq > y.seq ? 1 : 0));
  }

  /**
   * Wait until request `seq` is committed (waitForCommitted), then return every output addressed to this identity
   * for that request, decoded (decodeClientOutput: app messages, error outputs, and the framework's `registered`
   * acknowledgement told apart), in emission order. An empty array means the enclave sent this identity nothing
   * readable for it (for example: no output key registered when it ran). `fromBlock` bounds the event scan (use the
   * deployment block). Throws CommitTimeoutError (CLIENT_COMMIT_TIMEOUT), ENVELOPE_INVALID for a malformed output.
   */
  async waitForOutputs(seq: bigint, opts: WaitOptions & { fromBlock?: bigint } = {}): Promise<ClientOutput[]> {
    await waitForCommitted(this.o.publicClient, this.o.contract, seq, opts);
    return (await this.readOutputs(opts.fromBlock ?? 0n)).filter((o) => o.seq === seq).map(decodeClientOutput);
  }
}
