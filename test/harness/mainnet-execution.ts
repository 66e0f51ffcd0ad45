// Test helper: the execution header RLP of a real mainnet block, rebuilt from the execution payload of its full
// beacon block (helios fixture blocks/7109344.json): transactions and withdrawals tries by @ethereumjs/mpt.
import { readFileSync } from 'node:fs';
import { createMPT } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { bytesToHex, hexToBytes, numberToHex, type Hex } from 'viem';
import { encodeHeaderRlp, type RpcBlockHeader } from '@geode/protocol';

const EMPTY_OMMERS: Hex = '0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347';

async function trieRoot(values: Uint8Array[]): Promise<Hex> {
  const t = await createMPT();
  for (const [i, v] of values.entries()) await t.put(RLP.encode(i), v);
  return bytesToHex(t.root());
}

/** Header RLP and hash of mainnet block 17923026 (the block the Capella fixtures finalize). */
export async function finalizedExecutionHeader(): Promise<{ rlp: Hex; hash: Hex; block: RpcBlockHeader & { hash: Hex } }> {
  const b = JSON.parse(readFileSync(new URL('../../../shared/fixtures/ethereum/helios-mainnet-capella/blocks/7109344.json', import.meta.url), 'utf8'));
  const p = b.data.message.body.execution_payload;
  const q = (x: string): Hex => numberToHex(BigInt(x));
  const withdrawals = (p.withdrawals as { index: string; validator_index: string; address: Hex; amount: string }[])
    .map((w) => RLP.encode([BigInt(w.index), BigInt(w.validator_index), hexToBytes(w.address), BigInt(w.amount)]));
  const block: RpcBlockHeader & { hash: Hex } = {
    parentHash: p.parent_hash, sha3Uncles: EMPTY_OMMERS, miner: p.fee_recipient, stateRoot: p.state_root,
    transactionsRoot: await trieRoot((p.transactions as Hex[]).map((t) => hexToBytes(t))), receiptsRoot: p.receipts_root,
    logsBloom: p.logs_bloom, difficulty: '0x0', number: q(p.block_number), gasLimit: q(p.gas_limit), gasUsed: q(p.gas_used),
    timestamp: q(p.timestamp), extraData: p.extra_data, mixHash: p.prev_randao, nonce: '0x0000000000000000',
    baseFeePerGas: q(p.base_fee_per_gas), withdrawalsRoot: await trieRoot(withdrawals), hash: p.block_hash,
  };
  return { rlp: encodeHeaderRlp(block), hash: p.block_hash, block };
}
