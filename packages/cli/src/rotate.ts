/**
 * `geode rotate` (docs/cli.md#rotate): the admin's GeodeCore.requestRotation() (docs/protocol.md#rotation) for a
 * deployment's data dir: the operator key `geode deploy` wrote is the deployment's admin. The rotation request goes
 * into the ordered log; the running host commits the batch that ends with it together with the new epoch's key
 * (commitBatchWithEpoch), after which clients encrypt to the new epoch. `geode rotate --every <n>` sets the schedule
 * instead (GeodeCore.setRotationSchedule, docs/protocol.md#rotation-schedule).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BaseError, ContractFunctionRevertedError, parseEventLogs, type Address, type Hex, type PublicClient, type TransactionReceipt } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { z } from 'zod';
import { defineError } from '@geode/protocol';
import { GeodeCoreAbi } from '@geode/contracts';
import { chainAccessFromUrl } from '@geode/host';
import { CliStepError, readDeployment } from './steps.ts';
import { CliTimeoutError } from './errors.ts';

/**
 * The contract refused the rotation or the schedule (`revert` names the contract error: NotAdmin, NoActiveSession,
 * RotationIntervalTooShort) or the transaction failed. Nothing changed on-chain.
 */
export class CliRotateError extends defineError({
  codes: ['CLI_ROTATE_REFUSED'],
  docsPath: 'cli.md#cli-rotate-refused',
  build: (revert: string, cause?: unknown) => ({
    code: 'CLI_ROTATE_REFUSED',
    message: `GeodeCore.requestRotation was refused (${revert}): ${
      revert === 'NotAdmin' ? "only the deployment's admin may rotate, and this data dir's operator-key.json is not the admin's"
      : revert === 'NoActiveSession' ? 'there is no active session yet; run `geode handshake` first'
      : revert === 'RotationIntervalTooShort' ? 'a schedule is 0 (off) or at least GeodeCore.MIN_ROTATION_INTERVAL (8) requests'
      : 'the transaction failed; check the RPC endpoint and the operator\'s funds'
    }. Nothing changed on-chain.`,
    cause,
    details: { revert },
  }),
}) {}

/** What `geode rotate` reports. */
export interface RotateReport {
  ok: true;
  /** The epoch the rotation starts (decimal) and the seq of its request in the ordered log (decimal). */
  epoch: string;
  seq: string;
  /** Block of the requestRotation transaction (decimal). */
  block: string;
  /** With `wait`: the new epoch's X25519 request key (0x bytes32), committed on-chain (GeodeCore.currentEpoch). */
  encPubKey?: Hex;
}

/** Options of {@link rotate}. */
export interface RotateOptions {
  /** Wait until the host committed the rotation (currentEpoch() reaches it). Default false. */
  wait?: boolean;
  /** Bound of that wait, milliseconds. Default 120000. */
  timeoutMs?: number;
}

const keyFile = z.object({ privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/) });

/**
 * Send GeodeCore.requestRotation() from the admin of the deployment in `dataDir` (deployment.json, operator-key.json),
 * after simulating it (a refusal costs no transaction). Returns the epoch and the seq of the rotation request; with
 * `wait`, once the rotation is committed, the new epoch's key. Throws CliStepError (no deployment in dataDir),
 * CliRotateError (NotAdmin, NoActiveSession, a failed transaction), CliTimeoutError (wait exceeded).
 */
export async function rotate(dataDir: string, o: RotateOptions = {}): Promise<RotateReport> {
  return withAdmin(dataDir, async ({ pub, contract, call }) => {
    const r = await call('requestRotation', []);
    const ev = parseEventLogs({ abi: GeodeCoreAbi, logs: r.logs, eventName: 'RotationRequested' })[0];
    if (!ev) throw new CliRotateError('transaction reverted');
    const { epoch, seq } = ev.args as { epoch: bigint; seq: bigint };
    const report: RotateReport = { ok: true, epoch: epoch.toString(), seq: seq.toString(), block: r.blockNumber.toString() };
    if (!o.wait) return report;
    const timeoutMs = o.timeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [current, key] = await pub.readContract({ address: contract, abi: GeodeCoreAbi, functionName: 'currentEpoch' });
      if (current >= epoch) return { ...report, encPubKey: key };
      if (Date.now() > deadline) throw new CliTimeoutError(`the commitment of rotation epoch ${epoch}`, Math.round(timeoutMs / 1000));
      await new Promise((res) => setTimeout(res, 200));
    }
  });
}

/**
 * Send GeodeCore.setRotationSchedule(everyRequests) from the admin of the deployment in `dataDir`
 * (docs/protocol.md#rotation-schedule): 0 = on demand only, else at least MIN_ROTATION_INTERVAL. Returns the schedule
 * and the seq it counts from (decimal strings). Throws CliStepError, CliRotateError (NotAdmin, RotationIntervalTooShort).
 */
export async function setRotationSchedule(dataDir: string, everyRequests: bigint): Promise<{ ok: true; everyRequests: string; fromSeq: string }> {
  return withAdmin(dataDir, async ({ call }) => {
    const r = await call('setRotationSchedule', [everyRequests]);
    const ev = parseEventLogs({ abi: GeodeCoreAbi, logs: r.logs, eventName: 'RotationScheduleSet' })[0];
    if (!ev) throw new CliRotateError('transaction reverted');
    const a = ev.args as { everyRequests: bigint; fromSeq: bigint };
    return { ok: true, everyRequests: a.everyRequests.toString(), fromSeq: a.fromSeq.toString() };
  });
}

type AdminCall = (functionName: 'requestRotation' | 'setRotationSchedule', args: readonly bigint[]) => Promise<TransactionReceipt>;

/**
 * Run `f` with the chain of the deployment in `dataDir` and `call`: a GeodeCore transaction from its admin (the
 * operator key), simulated first so that a refusal costs no transaction (CliRotateError with the contract error).
 */
async function withAdmin<T>(dataDir: string, f: (c: { pub: PublicClient; contract: Address; call: AdminCall }) => Promise<T>): Promise<T> {
  const d = readDeployment(dataDir);
  const kf = join(dataDir, 'operator-key.json');
  if (!existsSync(kf)) throw new CliStepError(`${kf} does not exist (operator key written by \`geode deploy\`)`);
  const parsed = keyFile.safeParse(JSON.parse(readFileSync(kf, 'utf8')));
  if (!parsed.success) throw new CliStepError(`${kf} is not a valid operator key written by \`geode deploy\``);
  const admin = privateKeyToAccount(parsed.data.privateKey as Hex);
  const contract = d.contract as Address;
  const chain = await chainAccessFromUrl(d.rpcUrl, { trustedRpc: d.trustedRpc });
  const pub = chain.publicClient;
  const call: AdminCall = async (functionName, args) => {
    const base = { address: contract, abi: GeodeCoreAbi, account: admin } as const;
    try {
      if (functionName === 'requestRotation') await pub.simulateContract({ ...base, functionName, args: [] });
      else await pub.simulateContract({ ...base, functionName, args: [args[0]!] });
    } catch (e) {
      throw new CliRotateError(revertName(e), e);
    }
    const w = chain.wallet(admin);
    const hash = functionName === 'requestRotation'
      ? await w.writeContract({ address: contract, abi: GeodeCoreAbi, functionName, args: [] })
      : await w.writeContract({ address: contract, abi: GeodeCoreAbi, functionName, args: [args[0]!] });
    const r = await pub.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    if (r.status !== 'success') throw new CliRotateError('transaction reverted');
    return r;
  };
  try {
    return await f({ pub, contract, call });
  } finally {
    await chain.close();
  }
}

/** The contract error's name in a viem simulate/write error, else its short message. */
function revertName(e: unknown): string {
  if (e instanceof BaseError) {
    const r = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (r instanceof ContractFunctionRevertedError && r.data?.errorName) return r.data.errorName;
    return e.shortMessage;
  }
  return e instanceof Error ? e.message : String(e);
}
