import { parseEventLogs, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import { explainRevert, type GeodeClient } from '@geode/client';
import { GeodeCoreAbi } from '@geode/contracts';
import { TransfersAbi } from '../../generated/artifacts.ts';
import { decodeTransfersOutput, type TransfersOutputMessage } from '../outputs.ts';
import { transfersSpec } from '../spec.ts';

/**
 * One user's handle on a Transfers deployment: the public calls (deposit, claim) as contract transactions, the private
 * requests (transfer, withdraw, balance) encrypted with @geode/client, and the user's decoded outputs. Amounts in wei.
 * Every method throws @geode/client TransactionRevertedError when its transaction reverts (e.g. ZeroDeposit,
 * NothingToClaim), and AppRequestError APP_REQUEST_INVALID before sending a request the app would refuse to decode.
 */
export class TransfersClient {
  constructor(
    readonly client: GeodeClient,
    private readonly o: { publicClient: PublicClient; wallet: (account: Account) => WalletClient<Transport, Chain, Account>; contract: Address },
  ) {}

  get address(): Address {
    return this.client.address;
  }

  /** Transfers.deposit{value: amount}(); resolves with the deposit request's seq once mined. */
  async deposit(amount: bigint): Promise<bigint> {
    const hash = await this.write('deposit', amount);
    const r = await this.o.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    const ev = parseEventLogs({ abi: GeodeCoreAbi, logs: r.logs, eventName: 'RequestSubmitted' })[0];
    return ev!.args.seq;
  }

  /** Private transfer of `amount` wei to `to`; resolves with its seq. */
  async transfer(to: Address, amount: bigint): Promise<bigint> {
    return (await this.client.submit(transfersSpec.encodePrivate('transfer', { to, amount: amount.toString() }))).seq;
  }

  /** Private withdrawal request of `amount` wei; once committed, claim() pays it. Resolves with its seq. */
  async withdraw(amount: bigint): Promise<bigint> {
    return (await this.client.submit(transfersSpec.encodePrivate('withdraw', { amount: amount.toString() }))).seq;
  }

  /** Private balance query; the answer arrives as a `{op: "balance"}` output. Resolves with its seq. */
  async askBalance(): Promise<bigint> {
    return (await this.client.submit(transfersSpec.encodePrivate('balance', {}))).seq;
  }

  /** Transfers.claim(): pays what committed withdrawals credited. Resolves with the transaction hash. */
  async claim(): Promise<Hex> {
    const hash = await this.write('claim');
    await this.o.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    return hash;
  }

  /** Wei credited to this user by committed withdrawals and not yet claimed. */
  owed(): Promise<bigint> {
    return this.o.publicClient.readContract({ address: this.o.contract, abi: TransfersAbi, functionName: 'owed', args: [this.address] });
  }

  /** This user's decoded outputs since `fromBlock`, in seq order (framework acknowledgements left out). */
  async outputs(fromBlock = 0n): Promise<TransfersOutputMessage[]> {
    const out: TransfersOutputMessage[] = [];
    for (const o of await this.client.readOutputs(fromBlock)) {
      const m = decodeTransfersOutput(o.plaintext);
      if (m) out.push(m);
    }
    return out;
  }

  private async write(functionName: 'deposit' | 'claim', value?: bigint): Promise<Hex> {
    const wallet = this.o.wallet(this.client.account);
    try {
      return functionName === 'deposit'
        ? await wallet.writeContract({ address: this.o.contract, abi: TransfersAbi, functionName, args: [], value })
        : await wallet.writeContract({ address: this.o.contract, abi: TransfersAbi, functionName, args: [] });
    } catch (e) {
      explainRevert(`Transfers.${functionName}`, e);
    }
  }
}
