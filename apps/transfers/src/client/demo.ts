/**
 * The transfers demo scenario (docs/apps.md#transfers): on a fresh embedded devnet with the transfers contract and
 * enclave, alice and bob deposit, pay each other and carol privately, one transfer over the balance is refused, carol
 * and alice withdraw and claim. Ends by checking conservation: the contract's ETH equals the sum of the private
 * balances (each user's own answer to a private balance query) plus pending withdrawals.
 *
 * `geode demo --app apps/transfers --json` prints {@link runTransfersDemo}'s result as its final JSON line.
 */
import { keccak256, parseEther, toBytes, type Address } from 'viem';
import type { Logger } from 'pino';
import { createIdentity, GeodeClient, verifyActiveSession, type Identity } from '@geode/client';
import { fileURLToPath } from 'node:url';
import { loadApp, REPO_ROOT, startDevStack, type AppDemo, type DevStack, type GeodeApp } from '@geode/cli/app-kit';
import { TransfersAbi } from '../../generated/artifacts.ts';
import { TransfersClient } from './transfers-client.ts';

/** The transfers app (its folder's manifest) for a dev stack: startDevStack({ app: transfersApp() }). */
export const transfersApp = (): GeodeApp => loadApp(fileURLToPath(new URL('../..', import.meta.url)), REPO_ROOT);

/** The demo's final JSON line. Amounts are wei as decimal strings. */
export interface TransfersDemoResult {
  ok: boolean;
  app: 'transfers';
  /** Committed, successful deposits / transfers / withdrawals. */
  deposits: number;
  transfers: number;
  withdrawals: number;
  /** Each user's private balance, as the enclave answered that user's encrypted balance query. */
  balances: Record<string, string>;
  /** The Transfers contract's ETH balance at the end. */
  contractBalanceWei: string;
  /** contractBalanceWei == sum(balances) + totalOwed. */
  conserved: boolean;
  elapsedMs: number;
}

const NAMES = ['alice', 'bob', 'carol'] as const;
type Name = (typeof NAMES)[number];

/** Demo identities: deterministic keys from their names (public knowledge, devnet only). */
async function identities(): Promise<Record<Name, Identity>> {
  const out = {} as Record<Name, Identity>;
  for (const n of NAMES) out[n] = await createIdentity(n, toBytes(keccak256(toBytes(`geode-transfers-demo:${n}`))));
  return out;
}

/** TransfersClients for `ids` on `stack` (session verified against the stack's simulation PKI and policy, at `now`). */
export async function transfersClients<N extends string>(stack: DevStack, ids: Record<N, Identity>, now = Math.floor(Date.now() / 1000)): Promise<Record<N, TransfersClient>> {
  const session = await verifyActiveSession({
    publicClient: stack.chain.publicClient, chainId: stack.chain.chainId, contract: stack.deployment.contract,
    collateral: stack.pki.collateral(), rootCaDer: stack.pki.rootCaDer, policy: stack.policy, now, allowTrustedRpc: stack.trustedRpc,
  });
  const out = {} as Record<N, TransfersClient>;
  for (const n of Object.keys(ids) as N[]) {
    const client = new GeodeClient({ publicClient: stack.chain.publicClient, wallet: stack.chain.wallet, chainId: stack.chain.chainId, contract: stack.deployment.contract, identity: ids[n], session });
    out[n] = new TransfersClient(client, { publicClient: stack.chain.publicClient, wallet: stack.chain.wallet, contract: stack.deployment.contract });
  }
  return out;
}

/**
 * The conservation check on a quiescent deployment: asks every user in `users` for their private balance (encrypted
 * query), lets `commit(lastSeq)` get the queries committed (default: wait for the stack's host), reads the answers
 * and compares the contract's ETH with their sum plus totalOwed. `users` must hold every account that ever had a
 * balance. Returns the balances (by name) and the figures.
 */
export async function checkConservation<N extends string>(
  stack: DevStack,
  users: Record<N, TransfersClient>,
  commit: (lastSeq: bigint) => Promise<unknown> = (seq) => stack.host.waitCommitted(seq),
): Promise<{ balances: Record<N, bigint>; contractBalance: bigint; totalOwed: bigint; conserved: boolean }> {
  const asked = {} as Record<N, bigint>;
  let last = 0n;
  for (const n of Object.keys(users) as N[]) last = asked[n] = await users[n].askBalance();
  await commit(last);
  const balances = {} as Record<N, bigint>;
  let sum = 0n;
  for (const n of Object.keys(users) as N[]) {
    const answer = (await users[n].outputs(stack.deployment.fromBlock)).find((o) => o.seq === asked[n].toString());
    if (!answer || !answer.ok || answer.message.op !== 'balance') throw new Error(`no balance answer for ${n} (request ${asked[n]})`);
    balances[n] = BigInt(answer.message.balance);
    sum += balances[n];
  }
  const contractBalance = await stack.chain.publicClient.getBalance({ address: stack.deployment.contract });
  const totalOwed = await stack.chain.publicClient.readContract({ address: stack.deployment.contract, abi: TransfersAbi, functionName: 'totalOwed' });
  return { balances, contractBalance, totalOwed, conserved: contractBalance === sum + totalOwed };
}

/** Options of runTransfersDemo. */
export interface TransfersDemoOptions {
  progress?: (step: string) => void;
  say?: (line: string) => void;
  logger?: Logger;
}

/** The scenario on a running stack whose users' output keys are registered. Returns the summary fields. */
async function scenario(stack: DevStack, u: Record<Name, TransfersClient>, progress: (s: string) => void, say: (l: string) => void, t0: number): Promise<TransfersDemoResult> {
  const addr = (n: Name): Address => u[n].address;
  progress('deposits, private transfers and withdrawals');
  const seqs: bigint[] = [];
  seqs.push(await u.alice.deposit(parseEther('5')));
  seqs.push(await u.bob.deposit(parseEther('2')));
  seqs.push(await u.alice.transfer(addr('bob'), parseEther('1.5')));
  seqs.push(await u.bob.transfer(addr('carol'), parseEther('0.5')));
  seqs.push(await u.bob.transfer(addr('alice'), parseEther('10'))); // over bob's balance: refused
  seqs.push(await u.carol.withdraw(parseEther('0.2')));
  seqs.push(await u.alice.withdraw(parseEther('1')));
  await stack.host.waitCommitted(seqs.at(-1)!);

  // Count what the enclave accepted, from each sender's own (encrypted) outputs.
  let deposits = 0, transfers = 0, withdrawals = 0;
  for (const n of NAMES) {
    for (const m of await u[n].outputs(stack.deployment.fromBlock)) {
      if (!m.ok) { say(`${n}: request ${m.seq} refused: ${m.error.code}`); continue; }
      if (m.message.op === 'deposited') deposits++;
      else if (m.message.op === 'sent') transfers++;
      else if (m.message.op === 'withdrawn') withdrawals++;
    }
  }
  progress('claiming withdrawals');
  for (const n of ['carol', 'alice'] as const) if ((await u[n].owed()) > 0n) await u[n].claim();

  progress('checking conservation');
  const c = await checkConservation(stack, u);
  const balances = Object.fromEntries(NAMES.map((n) => [n, c.balances[n].toString()]));
  for (const n of NAMES) say(`${n.padEnd(6)} private balance ${balances[n]} wei`);
  say(`contract holds ${c.contractBalance} wei; pending withdrawals ${c.totalOwed} wei; conserved: ${c.conserved}`);
  if (!c.conserved) throw new Error(`conservation violated: the contract holds ${c.contractBalance} wei, private balances and pending withdrawals sum to something else`);
  return {
    ok: c.conserved, app: 'transfers', deposits, transfers, withdrawals, balances,
    contractBalanceWei: c.contractBalance.toString(), conserved: c.conserved, elapsedMs: Math.round(performance.now() - t0),
  };
}

/** Run the scenario on a fresh embedded devnet and return the summary line (what `geode demo --app apps/transfers` prints). */
export async function runTransfersDemo(o: TransfersDemoOptions = {}): Promise<TransfersDemoResult> {
  const t0 = performance.now();
  const progress = o.progress ?? (() => undefined);
  const say = o.say ?? (() => undefined);
  const ids = await identities();
  const stack = await startDevStack({ app: transfersApp(), progress, logger: o.logger, fund: NAMES.map((n) => ids[n].address) });
  try {
    const u = await transfersClients(stack, ids);
    progress('registering output keys');
    for (const n of NAMES) await u[n].client.registerOutputKey();
    return await scenario(stack, u, progress, say, t0);
  } finally {
    await stack.stop();
  }
}

/**
 * `geode demo --app apps/transfers`: the framework starts the stack, funds and registers alice, bob and carol, then
 * runs the scenario; its final JSON line is {"ok":true,"app":"transfers","deposits":…,…,"conserved":true,"elapsedMs":…}.
 */
export const demo: AppDemo = {
  identities: NAMES,
  async run(ctx) {
    const t0 = performance.now() - ctx.elapsedMs();
    const ids = ctx.identities as Record<Name, Identity>;
    const u = {} as Record<Name, TransfersClient>;
    for (const n of NAMES) u[n] = new TransfersClient(ctx.clients[n]!, { publicClient: ctx.stack.chain.publicClient, wallet: ctx.stack.chain.wallet, contract: ctx.stack.deployment.contract });
    void ids;
    const r = await scenario(ctx.stack, u, ctx.rep.progress, (l) => ctx.rep.say(l), t0);
    return { ...r, elapsedMs: ctx.elapsedMs() };
  },
};
