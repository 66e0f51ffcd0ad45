// Host side of the Ethereum light client: a Beacon API node (a local HTTP server serving the real mainnet fixtures)
// and an execution node (eth_getBlockByNumber of the finalized block) give the enclave's gate everything it needs;
// after ack() only newer periods are sent, after a refused incremental attempt the host starts from the checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { PublicClient } from 'viem';
import { ethereumAnchorHash, type EthereumAnchorJson } from '@geode/protocol';
import { ethereumGate } from '@geode/enclave';
import { mainnetAnchor } from '@geode/enclave/ethereum';
import { beaconApi, ethereumHeaders } from '../src/beacon.ts';
import { finalizedExecutionHeader } from '../../../test/harness/mainnet-execution.ts';

const CAP = new URL('../../../../shared/fixtures/ethereum/helios-mainnet-capella/', import.meta.url);
const read = (f: string): any => JSON.parse(readFileSync(new URL(f, CAP), 'utf8'));
const CHECKPOINT = '0x5afc212a7924789b2bc86acad3ab3a6ffb1f6e97253ea50bee7f4f51422c9275';

test('ethereumHeaders: bootstrap + updates + finality from a Beacon API, the finalized block from the execution node; the gate accepts them', async () => {
  const updates = read('updates.json') as { data: { attested_header: { beacon: { slot: string } } } }[];
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url!);
    const url = new URL(req.url!, 'http://x');
    let body: unknown;
    if (url.pathname === `/eth/v1/beacon/light_client/bootstrap/${CHECKPOINT}`) body = read('bootstrap.json');
    else if (url.pathname === '/eth/v1/beacon/light_client/finality_update') body = read('finality.json');
    else if (url.pathname === '/eth/v1/beacon/light_client/updates') {
      const start = Number(url.searchParams.get('start_period')); const count = Number(url.searchParams.get('count'));
      body = updates.filter((u) => { const p = Math.floor(Number(u.data.attested_header.beacon.slot) / 8192); return p >= start && p < start + count; });
    } else { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { block } = await finalizedExecutionHeader();
    const publicClient = { request: async (a: { method: string; params: unknown[] }) => { assert.equal(a.method, 'eth_getBlockByNumber'); assert.equal(a.params[0], '0x1117bd2'); return block; } } as unknown as PublicClient;
    const anchor = mainnetAnchor(CHECKPOINT) as EthereumAnchorJson;
    const next = ethereumHeaders({ anchor, beacon: beaconApi(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`), publicClient });
    const gate = ethereumGate(anchor, ethereumAnchorHash(anchor));

    const h1 = await next();
    assert.equal(h1.number, 17923026n);
    assert.ok(h1.beacon.bootstrap);
    assert.equal(h1.beacon.updates?.length, 6);
    assert.ok(asked.includes('/eth/v1/beacon/light_client/updates?start_period=862&count=6'));
    const v = gate.verify(h1, h1.beacon);
    assert.equal(v.header.stateRoot, '0x226f5ff47ab3725b5a4a3afc74b1e79e4aa3a29704561eccce590e58900baec3');
    v.commit();
    h1.ack();
    // Acknowledged up to period 867: only the finality update is sent now, and the gate accepts it on its store.
    const h2 = await next();
    assert.equal(h2.beacon.bootstrap, undefined);
    assert.equal(h2.beacon.updates, undefined);
    gate.verify(h2, h2.beacon).commit();
    // A refused incremental attempt (say the enclave restarted and lost its store): the next one starts over.
    h2.nack();
    const h3 = await next();
    assert.ok(h3.beacon.bootstrap);
    assert.equal(h3.beacon.updates?.length, 6);
    // The host checks the two untrusted nodes agree: another block under the finalized number is refused.
    const liar = ethereumHeaders({ anchor, beacon: beaconApi(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), publicClient: { request: async () => ({ ...block, gasUsed: '0x1' }) } as unknown as PublicClient });
    await assert.rejects(liar(), (e: { code: string }) => e.code === 'HOST_CHAIN');
  } finally {
    server.close();
  }
});
