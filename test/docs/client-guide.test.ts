// docs/client.md, run: the documented client flow with @geode/client against the embedded devnet stack (real
// enclave process, host and contracts), asserting what the page says each step returns.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEther } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createIdentity, decodeClientOutput, GeodeClient, verifyActiveSession, waitForCommitted, CommitTimeoutError, type ClientOutput, type Identity, type TrustedSession } from '@geode/client';
import { ComputationsAbi } from '@geode/app-computations/artifacts';
import { encodeRequest } from '@geode/app-computations';
import { startDevStack, type DevStack } from '../../packages/cli/src/stack.ts';

let stack: DevStack;
let session: TrustedSession;
let identity: Identity;
let alice: GeodeClient;

before(async () => {
  stack = await startDevStack();
  const { chain, deployment, pki, policy } = stack;
  session = await verifyActiveSession({
    publicClient: chain.publicClient, chainId: chain.chainId, contract: deployment.contract,
    collateral: pki.collateral(), rootCaDer: pki.rootCaDer, policy, now: Math.floor(Date.now() / 1000),
  });
  identity = await createIdentity('alice');
  const faucet = chain.wallet(privateKeyToAccount(stack.faucetKey));
  await chain.publicClient.waitForTransactionReceipt({ hash: await faucet.sendTransaction({ to: privateKeyToAccount(identity.privateKey).address, value: parseEther('1') }) });
  alice = new GeodeClient({ publicClient: chain.publicClient, wallet: chain.wallet, chainId: chain.chainId, contract: deployment.contract, identity, session });
});
after(async () => {
  await stack?.stop();
});

const fromBlock = () => stack.deployment.fromBlock;
const bob = privateKeyToAccount(`0x${'22'.repeat(32)}`).address;
const kinds = (outs: ClientOutput[]) => outs.map((o) => o.kind);

test('client.md §2: the verified session is the simulated enclave\'s, bound to this contract', () => {
  assert.equal(session.simulated, true);
  assert.equal(session.measurement.toLowerCase(), stack.measurement.toLowerCase());
  assert.match(session.encPubKey, /^0x[0-9a-f]{64}$/);
});

test('client.md §3–§5: register (acknowledged), create, submit, a refused request: each output decoded by kind', async () => {
  const reg = await alice.registerOutputKey();
  const ack = await alice.waitForOutputs(reg.seq, { fromBlock: fromBlock() });
  assert.deepEqual(kinds(ack), ['registered']);
  assert.equal((ack[0] as Extract<ClientOutput, { kind: 'registered' }>).outputKey.toLowerCase(), identity.outputKey.publicKey.toLowerCase());
  assert.equal(ack[0]!.seq, reg.seq);

  const created = await alice.sendAndSeq('createComputation', ['poll', 0, [alice.address, bob], 1n], 'Creating "poll"', ComputationsAbi);
  const c = await alice.waitForOutputs(created.seq, { fromBlock: fromBlock() });
  assert.deepEqual(kinds(c), ['message']);
  assert.deepEqual((c[0] as { message: { op: string; computation: string } }).message, { ...(c[0] as { message: object }).message, op: 'create', computation: 'poll' });

  const sub = await alice.submit(encodeRequest({ op: 'submit', computation: 'poll', value: 42 }));
  assert.deepEqual(kinds(await alice.waitForOutputs(sub.seq, { fromBlock: fromBlock() })), ['message']);

  const bad = await alice.submit(new TextEncoder().encode('not json'));
  const refused = await alice.waitForOutputs(bad.seq, { fromBlock: fromBlock() });
  assert.deepEqual(kinds(refused), ['error']);
  assert.equal((refused[0] as Extract<ClientOutput, { kind: 'error' }>).error.code, 'APP_BAD_REQUEST');
});

test('client.md §4: waiting for a request that is never committed times out with CLIENT_COMMIT_TIMEOUT', async () => {
  const far = 1_000_000n;
  await assert.rejects(waitForCommitted(stack.chain.publicClient, stack.deployment.contract, far, { timeoutMs: 300, pollMs: 50 }), (e: unknown) => e instanceof CommitTimeoutError && e.code === 'CLIENT_COMMIT_TIMEOUT');
});

test('client.md §5: an output whose inner seq differs from the commitment\'s is refused as malformed', () => {
  const plaintext = new TextEncoder().encode(JSON.stringify({ seq: '8', ok: true, message: { x: 1 } }));
  assert.throws(() => decodeClientOutput({ seq: 7n, sessionId: 1n, block: 1n, plaintext }), { code: 'ENVELOPE_INVALID' });
  assert.equal(decodeClientOutput({ seq: 8n, sessionId: 1n, block: 1n, plaintext }).kind, 'message');
});

test('client.md §3 epochs: currentEpoch follows a rotation, submit seals to it, a retired epoch\'s request gets ENCLAVE_EPOCH_RETIRED', async () => {
  const { devAccounts } = await import('@geode/devnet');
  const { GeodeCoreAbi } = await import('@geode/contracts');
  const admin = privateKeyToAccount(devAccounts(8)[1]!.privateKey); // the embedded devnet's operator is the admin
  assert.deepEqual(await alice.currentEpoch(), { epoch: 0, encPubKey: session.encPubKey });
  const rotate = async () => {
    const hash = await stack.chain.wallet(admin).writeContract({ address: stack.deployment.contract, abi: GeodeCoreAbi, functionName: 'requestRotation', args: [] });
    const r = await stack.chain.publicClient.waitForTransactionReceipt({ hash });
    assert.equal(r.status, 'success');
    await stack.host.waitCommitted(await stack.chain.publicClient.readContract({ address: stack.deployment.contract, abi: GeodeCoreAbi, functionName: 'requestCount' }));
  };
  await rotate();
  const e1 = await alice.currentEpoch();
  assert.equal(e1.epoch, 1);
  assert.notEqual(e1.encPubKey, session.encPubKey);
  const sub = await alice.submit(encodeRequest({ op: 'submit', computation: 'poll', value: 7 }));
  assert.deepEqual(kinds(await alice.waitForOutputs(sub.seq, { fromBlock: fromBlock() })), ['message'], 'sealed to epoch 1');
  await rotate();
  assert.equal((await alice.currentEpoch()).epoch, 2);
  const old = await alice.submit(encodeRequest({ op: 'submit', computation: 'poll', value: 8 }), { epoch: 0, encPubKey: session.encPubKey });
  const refused = await alice.waitForOutputs(old.seq, { fromBlock: fromBlock() });
  assert.deepEqual(kinds(refused), ['error']);
  assert.equal((refused[0] as Extract<ClientOutput, { kind: 'error' }>).error.code, 'ENCLAVE_EPOCH_RETIRED');
});
