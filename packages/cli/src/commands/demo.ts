import type { Command } from 'commander';
import { keccak256, toBytes, type Address } from 'viem';
import { createIdentity, GeodeClient, verifyActiveSession, type Identity, type TrustedSession } from '@geode/client';
import type { Request } from '@geode/app-computations';
import { lightClientOption, rpcOption, startDevStack, withRpcOptions, type RpcCliOptions } from '../stack.ts';
import { createComputation, decodeAppOutput, sendRequest, type AppOutput } from '../app.ts';
import { fail, reporter, type Reporter } from '../output.ts';

/** What the demo returns (and prints as its final JSON line with --json). */
export interface DemoResult {
  ok: boolean;
  measurement: string;
  simulated: boolean;
  attestation: { teeType: string; status: string; mrEnclave: string; sessionId: string; simulated: boolean; trustedRpc: boolean };
  /** The enclave's light client: the devnet's block signer, Ethereum's sync committee, or none (trusted RPC). */
  lightClient: 'devnet' | 'ethereum' | 'trusted-rpc';
  computations: { name: string; type: string; results: Record<string, unknown> }[];
  refused: { who: string; action: string; code: string }[];
  requests: number;
  elapsedMs: number;
}

const NAMES = ['alice', 'bob', 'carol', 'dave', 'eve'] as const;
type Name = (typeof NAMES)[number];

/** Computations of the demo, after the EventManager sample's scripts: creator alice, who is not always a participant. */
const COMPUTATIONS = [
  { name: 'salary-average', type: 'average', participants: ['alice', 'bob', 'carol', 'dave'], quorum: 3 },
  { name: 'top-seller', type: 'max', participants: ['alice', 'bob', 'carol'], quorum: 3 },
  { name: 'lowest-bid', type: 'min', participants: ['bob', 'carol', 'dave'], quorum: 3 },
  { name: 'vin-claims', type: 'keyMatcher', participants: ['alice', 'bob', 'carol', 'dave'], quorum: 2 },
] as const;

/** The scripted requests, in chain order (refusals included on purpose). */
const SCRIPT: [Name, Request][] = [
  ['alice', { op: 'submit', computation: 'salary-average', value: 100_000 }],
  ['bob', { op: 'submit', computation: 'salary-average', value: 120_000 }],
  ['carol', { op: 'submit', computation: 'salary-average', value: 90_000 }],
  ['bob', { op: 'submit', computation: 'salary-average', value: 130_000 }], // replaces bob's first value
  ['eve', { op: 'submit', computation: 'salary-average', value: 1 }], // not a participant: refused
  ['alice', { op: 'result', computation: 'salary-average' }], // quorum reached: locks
  ['dave', { op: 'submit', computation: 'salary-average', value: 95_000 }], // after lock: refused
  ['bob', { op: 'result', computation: 'salary-average' }],
  ['carol', { op: 'result', computation: 'salary-average' }],
  ['dave', { op: 'result', computation: 'salary-average' }],
  ['alice', { op: 'submit', computation: 'top-seller', value: 52 }],
  ['bob', { op: 'submit', computation: 'top-seller', value: 71 }],
  ['bob', { op: 'result', computation: 'top-seller' }], // quorum not reached yet
  ['carol', { op: 'submit', computation: 'top-seller', value: 64 }],
  ['alice', { op: 'result', computation: 'top-seller' }],
  ['bob', { op: 'result', computation: 'top-seller' }],
  ['carol', { op: 'result', computation: 'top-seller' }],
  ['bob', { op: 'submit', computation: 'lowest-bid', value: 4_200 }],
  ['carol', { op: 'submit', computation: 'lowest-bid', value: 3_900 }],
  ['dave', { op: 'submit', computation: 'lowest-bid', value: 4_050 }],
  ['alice', { op: 'result', computation: 'lowest-bid' }], // creator, not a participant: refused
  ['bob', { op: 'result', computation: 'lowest-bid' }],
  ['carol', { op: 'result', computation: 'lowest-bid' }],
  ['dave', { op: 'result', computation: 'lowest-bid' }],
  ['alice', { op: 'submitKey', computation: 'vin-claims', key: 'VIN-1HGCM82633A004352', message: 'alice: claim A-17, rear damage' }],
  ['bob', { op: 'submitKey', computation: 'vin-claims', key: 'VIN-5YJ3E1EA7KF317000', message: 'bob: claim B-3' }],
  ['carol', { op: 'submitKey', computation: 'vin-claims', key: 'VIN-1HGCM82633A004352', message: 'carol: claim C-2, total loss' }],
  ['dave', { op: 'submitKey', computation: 'vin-claims', key: 'VIN-1HGCM82633A004352', message: 'dave: claim D-9' }],
  ['eve', { op: 'submit', computation: 'no-such-computation', value: 3 }], // does not exist
];

/** Demo identities: deterministic keys from their names (public knowledge, devnet only). */
async function demoIdentities(): Promise<Record<Name, Identity>> {
  const out = {} as Record<Name, Identity>;
  for (const n of NAMES) out[n] = await createIdentity(n, toBytes(keccak256(toBytes(`geode-demo:${n}`))));
  return out;
}

function summarize(type: string, outs: AppOutput[]): unknown {
  const ok = outs.filter((o) => o.ok && 'result' in o && o.result.type !== 'accepted') as Extract<AppOutput, { ok: true }>[];
  if (type === 'keyMatcher') {
    const last = ok.filter((o) => o.result.type === 'match').at(-1);
    return last && last.result.type === 'match' ? { key: last.result.key, messages: last.result.messages.map((m) => m.message) } : null;
  }
  const r = ok.at(-1)?.result;
  if (!r) return null;
  if (r.type === 'average') return { average: r.value, count: r.count };
  if (r.type === 'max' || r.type === 'min') return { [r.type]: r.participant };
  return r;
}

/** Run the whole demo on a fresh embedded devnet. */
export async function runDemo(rep: Reporter, opts: RpcCliOptions = {}): Promise<DemoResult> {
  const rpc = rpcOption(opts);
  const lightClient = lightClientOption(opts.lightClient);
  const t0 = performance.now();
  const ids = await demoIdentities();
  const nameOf = (a: string) => NAMES.find((n) => ids[n].address.toLowerCase() === a.toLowerCase()) ?? a;
  const stack = await startDevStack({ progress: rep.progress, logger: rep.logger, fund: NAMES.map((n) => ids[n].address), rpc, lightClient });
  try {
    rep.progress('verifying the enclave attestation');
    const now = Math.floor(Date.now() / 1000);
    const session: TrustedSession = await verifyActiveSession({
      publicClient: stack.chain.publicClient, chainId: stack.chain.chainId, contract: stack.deployment.contract,
      collateral: stack.pki.collateral() as never, rootCaDer: stack.pki.rootCaDer, policy: stack.policy, now, allowTrustedRpc: stack.trustedRpc,
    });
    if (stack.beacon) rep.say('Light client: Ethereum sync committee over the devnet\'s Beacon API (the devnet holds every committee key: no security; the code path of a mainnet deployment).');
    if (session.trustedRpc) rep.say('WARNING: the enclave trusts its RPC node (--insecure-trusted-rpc): no light client protects it.');
    rep.say(`Attestation: ${session.verdict.teeType} quote, TCB ${session.verdict.status}, mr_enclave ${session.measurement.slice(2)}`);
    rep.say(`WARNING: trusting a SIMULATED TEE (policy allowSimulation: true) — no hardware protection.`);
    const clients = {} as Record<Name, GeodeClient>;
    for (const n of NAMES) {
      clients[n] = new GeodeClient({ publicClient: stack.chain.publicClient, wallet: stack.chain.wallet, chainId: stack.chain.chainId, contract: stack.deployment.contract, identity: ids[n], session });
    }
    const refused: DemoResult['refused'] = [];
    let requests = 0;
    rep.progress('registering output keys');
    for (const n of NAMES) { await clients[n].registerOutputKey(); requests++; }

    rep.progress('creating computations');
    for (const c of COMPUTATIONS) {
      await createComputation(clients.alice, { ...c, participants: c.participants.map((p) => ids[p].address) as Address[] });
      requests++;
      rep.say(`alice created ${c.type} "${c.name}" for ${c.participants.join(', ')} (quorum ${c.quorum})`);
    }
    try {
      await createComputation(clients.bob, { name: 'salary-average', type: 'average', participants: [ids.bob.address, ids.eve.address], quorum: 1 });
    } catch (e) {
      const reason = (e as { details?: { reason?: string } }).details?.reason ?? String(e);
      refused.push({ who: 'bob', action: 'create "salary-average" again', code: reason });
      rep.say(`bob tried to create "salary-average" again: refused on-chain (${reason})`);
    }

    rep.progress(`sending ${SCRIPT.length} encrypted requests`);
    let last = 0n;
    const sent: { who: Name; req: Request; seq: bigint }[] = [];
    for (const [who, req] of SCRIPT) {
      const { seq } = await sendRequest(clients[who], req);
      sent.push({ who, req, seq });
      last = seq;
      requests++;
    }
    rep.progress('waiting for the enclave to process and commit');
    await stack.host.waitCommitted(last);

    const computations: DemoResult['computations'] = [];
    const byName = new Map<Name, AppOutput[]>();
    for (const n of NAMES) byName.set(n, (await clients[n].readOutputs(stack.deployment.fromBlock)).map(decodeAppOutput).filter((x): x is AppOutput => x !== null));
    for (const n of NAMES) {
      for (const o of byName.get(n)!) {
        if (o.ok) continue;
        const s = sent.find((x) => x.seq.toString() === o.seq);
        refused.push({ who: n, action: s ? `${s.req.op} ${s.req.computation}` : `request ${o.seq}`, code: o.error.code });
      }
    }
    for (const c of COMPUTATIONS) {
      const results: Record<string, unknown> = {};
      for (const p of c.participants) {
        const mine = byName.get(p)!.filter((o) => o.ok && 'computation' in o && o.computation === c.name);
        const s = summarize(c.type, mine);
        results[p] = s && typeof s === 'object' && c.type !== 'average' && c.type !== 'keyMatcher' ? Object.fromEntries(Object.entries(s).map(([k, v]) => [k, nameOf(String(v))])) : s;
      }
      computations.push({ name: c.name, type: c.type, results });
    }
    rep.say('');
    for (const c of computations) {
      rep.say(`${c.type} "${c.name}":`);
      for (const [p, r] of Object.entries(c.results)) rep.say(`  ${p.padEnd(6)} learns ${r === null ? "nothing (no other participant shares its key)" : JSON.stringify(r)}`);
    }
    rep.say('Refused, as intended:');
    for (const r of refused) rep.say(`  ${r.who.padEnd(6)} ${r.action}: ${r.code}`);
    const elapsedMs = Math.round(performance.now() - t0);
    rep.say(`${requests} requests in ${(elapsedMs / 1000).toFixed(1)} s`);
    return {
      ok: true,
      measurement: stack.measurement.slice(2),
      simulated: session.simulated,
      attestation: { teeType: session.verdict.teeType, status: session.verdict.status, mrEnclave: session.measurement.slice(2), sessionId: session.sessionId.toString(), simulated: session.simulated, trustedRpc: session.trustedRpc },
      lightClient: stack.deployment.config.ethereumAnchor ? 'ethereum' : stack.trustedRpc ? 'trusted-rpc' : 'devnet',
      computations,
      refused,
      requests,
      elapsedMs,
    };
  } finally {
    await stack.stop();
  }
}

export function registerDemoCommand(program: Command): void {
  withRpcOptions(program
    .command('demo'))
    .description('Run the main job on the embedded devnet: deploy, attest, and run all four private computation types with five identities')
    .option('--json', 'print one JSON line with the results instead of text')
    .option('-v, --verbose', 'log host and enclave activity to stderr')
    .action(async (opts: { json?: boolean; verbose?: boolean } & RpcCliOptions) => {
      const rep = reporter(opts);
      try {
        rep.result(await runDemo(rep, opts));
      } catch (e) {
        fail(rep, e);
      }
    });
}
