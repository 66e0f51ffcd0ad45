import { BaseError, ContractFunctionRevertedError, bytesToHex, type Abi, type ContractFunctionArgs, type ContractFunctionName, getAbiItem, hexToBytes, parseEventLogs, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { decodeOutputs, encodeEnvelope, HPKE_INFO, hpkeOpen, hpkeSeal, outputAad, requestEpochAad } from '@geode/protocol';
import { GeodeCoreAbi } from '@geode/contracts';
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

  /**
   * The rotation epoch requests are encrypted to now (docs/protocol.md#rotation): GeodeCore.currentEpoch(). Epoch 0's
   * key is the verified session's encPubKey; a later epoch's key is the one the contract recorded from a commitment
   * the session's attested signer signed over it (commitBatchWithEpoch), so it is as trusted as the session.
   * `epoch` is a number (uint32), `encPubKey` 0x bytes32.
   */
  async currentEpoch(): Promise<{ epoch: number; encPubKey: Hex }> {
    const [epoch, key] = await this.o.publicClient.readContract({ address: this.o.contract, abi: GeodeCoreAbi, functionName: 'currentEpoch' });
    return { epoch: Number(epoch), encPubKey: epoch === 0n ? this.o.session.encPubKey : key };
  }

  /**
   * Seal `plaintext` to an epoch of the session (default: currentEpoch()): payload = 0x03 || epoch (uint32 BE) || enc
   * || ciphertext (protocol envelope), HPKE additional data requestEpochAad(chainId, contract, sessionId, sender, epoch).
   */
  async seal(plaintext: Uint8Array, epoch?: { epoch: number; encPubKey: Hex }): Promise<Hex> {
    const e = epoch ?? (await this.currentEpoch());
    const aad = hexToBytes(requestEpochAad(this.o.chainId, this.o.contract, this.o.session.sessionId, this.account.address, e.epoch));
    const { enc, ciphertext } = await hpkeSeal(hexToBytes(e.encPubKey), HPKE_INFO.request, aad, plaintext);
    return bytesToHex(encodeEnvelope({ kind: 'private', epoch: e.epoch, enc, ciphertext }));
  }

  /**
   * Encrypt (to the current epoch, see seal) and submit a private request. Resolves with its sequence number once
   * mined. Throws TransactionRevertedError.
   */
  async submit(plaintext: Uint8Array, epoch?: { epoch: number; encPubKey: Hex }): Promise<{ seq: bigint; block: bigint; hash: Hex }> {
    const payload = await this.seal(plaintext, epoch);
    return this.sendAndSeq('submitRequest', [payload], 'Request');
  }

  /** Register this identity's output key with the enclave (a public request). */
  async registerOutputKey(): Promise<{ seq: bigint; block: bigint; hash: Hex }> {
    return this.sendAndSeq('registerOutputKey', [this.o.identity.outputKey.publicKey], 'Output key registration');
  }

  /**
   * Send a contract call that appends a request (`abi`: GeodeCoreAbi by default, or the app contract's ABI, typed
   * `as const`, so `functionName` and `args` are checked against it); returns the seq from its RequestSubmitted
   * event, the block and the transaction hash. Throws TransactionRevertedError with the contract's custom error name.
   */
  async sendAndSeq<const abi extends Abi = typeof GeodeCoreAbi, functionName extends ContractFunctionName<abi, 'nonpayable' | 'payable'> = ContractFunctionName<abi, 'nonpayable' | 'payable'>>(
    functionName: functionName,
    args: ContractFunctionArgs<abi, 'nonpayable' | 'payable', functionName>,
    what: string,
    abi?: abi,
  ): Promise<{ seq: bigint; block: bigint; hash: Hex }> {
    const call = { address: this.o.contract, abi: (abi ?? GeodeCoreAbi) as Abi, functionName: functionName as string, args: args as readonly unknown[] };
    let hash: Hex;
    try {
      hash = await this.wallet.writeContract(call);
    } catch (e) {
      explainRevert(what, e);
    }
    const r = await this.o.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (r.status !== 'success') {
      // Re-run as a call to learn the custom error.
      try {
        await this.o.publicClient.simulateContract({ ...call, account: this.account, blockNumber: r.blockNumber - 1n });
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
