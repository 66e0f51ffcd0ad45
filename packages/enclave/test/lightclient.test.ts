// Light client against a real chain: the embedded devnet (EDR) signs headers; eth_getProof gives EIP-1186 proofs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicClient, createWalletClient, defineChain, hexToBytes, keccak256, numberToHex, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startDevnet, devAccounts, devnetTransport } from '@geode/devnet';
import { slotKey, type StorageProofJson } from '@geode/protocol';
import { EMPTY_TRIE_ROOT, verifySignedHeader, verifyStorageProof, recoverSigner } from '../src/lightclient/index.ts';

// Storage setter: runtime `SSTORE(calldata[0:32], calldata[32:64])`; init code copies and returns it.
const INIT = '0x6008600c60003960086000f36020356000355500' as Hex;

async function chainWithContract() {
  const acct = devAccounts(1)[0]!;
  const devnet = await startDevnet({ fund: [{ address: acct.address, balance: 10n ** 21n }] });
  const chain = defineChain({ id: 31337, name: 'devnet', nativeCurrency: { name: 'ETH', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: ['http://unused'] } } });
  const transport = devnetTransport(devnet);
  const pub = createPublicClient({ chain, transport });
  const wallet = createWalletClient({ chain, transport, account: privateKeyToAccount(acct.privateKey) });
  const hash = await wallet.sendTransaction({ data: INIT });
  const contract = (await pub.getTransactionReceipt({ hash })).contractAddress! as Address;
  const store = async (slot: bigint, value: bigint) => {
    const h = await wallet.sendTransaction({ to: contract, data: `0x${slotKey(slot).slice(2)}${numberToHex(value, { size: 32 }).slice(2)}` });
    return (await pub.getTransactionReceipt({ hash: h })).blockNumber;
  };
  const proofAt = async (keys: Hex[], blockNumber: bigint): Promise<StorageProofJson> => {
    const p = await pub.getProof({ address: contract, storageKeys: keys, blockNumber });
    return {
      address: p.address, balance: numberToHex(p.balance), nonce: numberToHex(p.nonce), codeHash: p.codeHash, storageHash: p.storageHash,
      accountProof: p.accountProof, storageProof: p.storageProof.map((s) => ({ key: s.key, value: numberToHex(s.value), proof: s.proof })),
    };
  };
  return { devnet, contract, store, proofAt };
}

test('devnet: signed headers verify, chain forward, and refuse forgery, staleness, forks and broken links', async () => {
  const { devnet, store } = await chainWithContract();
  const anchor = { chainId: devnet.chainId, signer: devnet.blockSigner, genesisHash: devnet.genesisHash };
  let trusted = { number: 0n, hash: devnet.genesisHash };
  const b1 = await store(1n, 1n);
  const b2 = await store(1n, 2n);
  const h1 = await devnet.getSignedHeader(b1);
  const f1 = verifySignedHeader(trusted, h1, anchor);
  assert.equal(f1.hash, h1.hash);
  trusted = { number: f1.number, hash: f1.hash };
  const h2 = await devnet.getSignedHeader(b2);
  if (b2 === b1 + 1n) assert.equal(verifySignedHeader(trusted, h2, anchor).parentHash, h1.hash);
  // Same header again is fine (equal number, equal hash).
  verifySignedHeader(trusted, h1, anchor);
  // Forged: signed by someone else.
  const other = { ...anchor, signer: '0x0000000000000000000000000000000000000001' as Address };
  assert.throws(() => verifySignedHeader(trusted, h2, other), { code: 'LC_HEADER_SIGNATURE' });
  // Signature of h1 attached to h2.
  assert.throws(() => verifySignedHeader(trusted, { rlp: h2.rlp, signature: h1.signature }, anchor), { code: 'LC_HEADER_SIGNATURE' });
  // Wrong chain id in the signing domain.
  assert.throws(() => verifySignedHeader(trusted, h2, { ...anchor, chainId: 1n }), { code: 'LC_HEADER_SIGNATURE' });
  // Stale: older than trusted.
  const h0 = await devnet.getSignedHeader(0n);
  assert.throws(() => verifySignedHeader(trusted, h0, anchor), { code: 'LC_STALE_HEADER' });
  // Fork at the trusted height.
  assert.throws(() => verifySignedHeader({ number: h1.number, hash: keccak256('0x01') }, h1, anchor), { code: 'LC_STALE_HEADER' });
  // Link: trusted + 1 with a different parent.
  assert.throws(() => verifySignedHeader({ number: h2.number - 1n, hash: keccak256('0x02') }, h2, anchor), { code: 'LC_HEADER_LINK' });
  // Garbage RLP.
  assert.throws(() => verifySignedHeader(trusted, { rlp: '0xc0', signature: h1.signature }, anchor), { code: 'LC_HEADER_DECODE' });
  // recoverSigner rejects bad v.
  const badV = `${h1.signature.slice(0, -2)}1f` as Hex;
  assert.throws(() => recoverSigner(keccak256('0x'), badV), { code: 'LC_HEADER_SIGNATURE' });
});

test('devnet: eth_getProof storage proofs verify (present and absent keys) and refuse tampering', async () => {
  const { devnet, contract, store, proofAt } = await chainWithContract();
  await store(5n, 0xabcdefn);
  const bn = await store(7n, 1n);
  const h = await devnet.getSignedHeader(bn);
  const f = verifySignedHeader({ number: 0n, hash: devnet.genesisHash }, h, { chainId: devnet.chainId, signer: devnet.blockSigner, genesisHash: devnet.genesisHash });
  const keys = [slotKey(5n), slotKey(7n), slotKey(9n)];
  const proof = await proofAt(keys, bn);
  const vals = await verifyStorageProof(f.stateRoot, proof, contract, keys);
  assert.deepEqual([...vals.values()], [0xabcdefn, 1n, 0n]);
  // Missing key.
  await assert.rejects(verifyStorageProof(f.stateRoot, proof, contract, [slotKey(11n)]), { code: 'LC_PROOF_MISSING_KEY' });
  // Wrong contract address.
  await assert.rejects(verifyStorageProof(f.stateRoot, proof, '0x00000000000000000000000000000000000000ff', keys), { code: 'LC_ACCOUNT_PROOF' });
  // Wrong state root (proof from another block).
  const older = await devnet.getSignedHeader(bn - 1n);
  const { decodeHeader } = await import('@geode/protocol');
  await assert.rejects(verifyStorageProof(decodeHeader(older.rlp).stateRoot, proof, contract, keys), { code: 'LC_ACCOUNT_PROOF' });
  // Tampered account proof node (each node in turn).
  for (let i = 0; i < proof.accountProof.length; i++) {
    const t = structuredClone(proof);
    const b = hexToBytes(t.accountProof[i] as Hex);
    b[b.length - 5] ^= 0x10;
    t.accountProof[i] = `0x${Buffer.from(b).toString('hex')}`;
    await assert.rejects(verifyStorageProof(f.stateRoot, t, contract, keys), { code: 'LC_ACCOUNT_PROOF' }, `account node ${i}`);
  }
  // Tampered storage proof node.
  const t = structuredClone(proof);
  const sp = t.storageProof[0]!;
  const b = hexToBytes(sp.proof.at(-1) as Hex);
  b[b.length - 1] ^= 0x01;
  sp.proof[sp.proof.length - 1] = `0x${Buffer.from(b).toString('hex')}`;
  await assert.rejects(verifyStorageProof(f.stateRoot, t, contract, keys), { code: 'LC_STORAGE_PROOF' });
  // Claiming absence of a present key (empty proof) is refused.
  const t2 = structuredClone(proof);
  t2.storageProof[0] = { ...t2.storageProof[0]!, value: '0x0', proof: [] };
  await assert.rejects(verifyStorageProof(f.stateRoot, t2, contract, keys), { code: 'LC_STORAGE_PROOF' });
  // storageHash field lying about the account.
  const t3 = structuredClone(proof);
  t3.storageHash = EMPTY_TRIE_ROOT;
  await assert.rejects(verifyStorageProof(f.stateRoot, t3, contract, keys), { code: 'LC_ACCOUNT_PROOF' });
});
