/**
 * DCAP verification benchmark (npm run bench:attest).
 *
 * For the SGX v3 and TDX v4 fixtures: per-quote time of verifyDcapQuote warm (collateral and PCK
 * chain cached), cold (fresh cache each call), @phala/dcap-qvl on the same quotes in the same run,
 * and the physical limit = (ECDSA verifications a warm quote needs) x (P-256 verify time on this
 * machine, measured with the same primitive: node:crypto verify, ieee-p1363).
 * Figures are medians of several batches. No assertions: the figures and ratios are printed.
 */
import { createRequire } from 'node:module';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { verifyDcapQuote } from '../packages/attestation/src/dcap/verify.ts';
import { createDcapCache } from '../packages/attestation/src/dcap/cache.ts';

const require = createRequire(import.meta.url);
const qvl = require('@phala/dcap-qvl') as { verify(q: Uint8Array, c: unknown, now: number): { status: string } };
const FIX = fileURLToPath(new URL('../../shared/fixtures/attestation/', import.meta.url));

/** ECDSA P-256 verifications of a warm verification: QE report (PCK key) + quote (attestation key). */
const WARM_ECDSA = 2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
/** Median per-call microseconds over `batches` batches of `n` calls. */
function time(fn: () => void, n: number, batches = 9): number {
  for (let i = 0; i < Math.min(n * 2, 400); i++) fn();
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    per.push(Number(process.hrtime.bigint() - t0) / 1000 / n);
  }
  return median(per);
}

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const msg = Buffer.alloc(632, 7);
const sig = sign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' });
const tVerify = time(() => verify('sha256', msg, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig), 400);
console.log(`P-256 verify (node:crypto, ieee-p1363): ${tVerify.toFixed(1)} us`);
console.log(`signature limit for a warm quote: ${WARM_ECDSA} x ${tVerify.toFixed(1)} = ${(WARM_ECDSA * tVerify).toFixed(1)} us\n`);

const cases = [
  { name: 'SGX v3 (dcap-qvl/sgx_quote)', quote: 'dcap-qvl/sgx_quote', col: 'dcap-qvl/sgx_quote_collateral.json', now: 1752919277 },
  { name: 'TDX v4 (dcap-qvl/tdx_quote)', quote: 'dcap-qvl/tdx_quote', col: 'dcap-qvl/tdx_quote_collateral.json', now: 1752919234 },
  { name: 'TDX v5 (go-tdx-guest/quote_v5_sample)', quote: 'go-tdx-guest/quote_v5_sample.dat', col: 'dcap-qvl/tdx_quote_outdated_collateral.json', now: 1774003274 },
];

const rows: string[][] = [['quote', 'warm us', 'cold us', 'dcap-qvl us', 'qvl/warm', 'warm/limit', 'qvl/cold']];
for (const c of cases) {
  const quote = new Uint8Array(readFileSync(FIX + c.quote));
  const collateral = JSON.parse(readFileSync(FIX + c.col, 'utf8'));
  const cache = createDcapCache();
  const status = verifyDcapQuote(quote, collateral, { now: c.now, cache }).status;
  const theirs = qvl.verify(quote, collateral, c.now).status;
  if (status !== theirs) throw new Error(`${c.name}: verdicts differ (${status} vs ${theirs})`);
  const warm = time(() => verifyDcapQuote(quote, collateral, { now: c.now, cache }), 300);
  const cold = time(() => verifyDcapQuote(quote, collateral, { now: c.now, cache: createDcapCache() }), 30);
  const ref = time(() => qvl.verify(quote, collateral, c.now), 20);
  rows.push([c.name, warm.toFixed(0), cold.toFixed(0), ref.toFixed(0), `${(ref / warm).toFixed(1)}x`, `${(warm / (WARM_ECDSA * tVerify)).toFixed(2)}x`, `${(ref / cold).toFixed(1)}x`]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  '));
console.log('\ntargets: qvl/warm >= 10x, warm/limit <= 2x');
