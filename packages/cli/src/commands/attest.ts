/**
 * `geode attest verify FILE [--collateral FILE] [--now ISO|unix] [--policy FILE] [--onchain] [--json]`
 * `geode attest inspect FILE [--json]`
 *
 * verify: detects the evidence (DCAP SGX/TDX quote, SEV-SNP report, Nitro document; binary, hex
 * or base64), verifies it with its collateral (DCAP: dcap-qvl QuoteCollateralV3 JSON; SEV-SNP:
 * the VCEK certificate, DER or PEM; Nitro: none), then applies the policy (default: the strict
 * default policy). Exit code 0 only when accepted (crypto + policy), 1 when refused, 2 on usage
 * errors. Sets process.exitCode, never calls process.exit.
 *
 * --json prints one JSON object: { accepted, status, advisoryIds, teeType, version,
 * measurements (hex), debug, simulated, validFrom, validUntil, collateralIssuedAt, fmspc, pceId,
 * now, nowSource, checks, error?: { code, message, details, stage: 'verify' | 'policy' | 'onchain' } }.
 *
 * --onchain (DCAP with --collateral): also runs the verification by the on-chain DCAP verifier on an in-process devnet
 * at block time `now` (attest-onchain.ts) and adds `onchain: { gasQuote, gasRegistration, gasQuoteCached, status,
 * advisoryIds, measurement, reportData }` (or `onchain: { error }`) to the JSON; accepted then also needs the contract's
 * acceptance.
 */
import { readFileSync } from 'node:fs';
import { parseNitroDocument } from '@geode/attestation/nitro';
import { parseSnpReport } from '@geode/attestation/snp';
import type { Command } from 'commander';
import { docsLink, progressSink } from '../output.ts';
import type { OnchainAttestResult } from './attest-onchain.ts';
import {
  detectEvidence,
  evaluatePolicy,
  loadPolicy,
  parseQuote,
  quoteMeasurements,
  quoteIsDebug,
  verifyAttestation,
  type Policy,
  type Verdict,
} from '@geode/attestation';

/** Output sink (tests capture it). */
export interface AttestIo {
  out(text: string): void;
  /** Progress of a long step (stderr; docs/cli.md#progress). Optional: tests leave it out. */
  progress?(text: string): void;
  /** Current time, unix seconds (tests pin it). */
  clock(): number;
}

const defaultIo: AttestIo = { out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`), clock: () => Math.floor(Date.now() / 1000) };

/**
 * Parses --now: unix seconds (digits, optionally with a fraction) or an ISO-8601 date. Returns unix seconds with
 * the milliseconds kept (a Nitro leaf certificate lives three hours: 14:28:27.405 is not 14:28:27.000), or null
 * when invalid.
 */
export function parseNow(s: string): number | null {
  if (/^\d+(\.\d+)?$/.test(s.trim())) return Number(s);
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t / 1000;
}

interface ErrorJson {
  code: string;
  message: string;
  details?: Record<string, unknown>;
  /** Docs page of the code, relative to docs/ (GeodeError.docsPath). */
  docsPath?: string;
  stage: 'input' | 'verify' | 'policy' | 'onchain';
}

function errJson(e: unknown, stage: ErrorJson['stage']): ErrorJson {
  const g = e as { code?: string; message?: string; details?: Record<string, unknown>; docsPath?: unknown };
  const docsPath = typeof g.docsPath === 'string' ? g.docsPath : undefined;
  return { code: typeof g.code === 'string' ? g.code : 'CLI_UNEXPECTED', message: g.message ?? String(e), details: g.details, docsPath, stage };
}

const iso = (t: number) => new Date(Math.round(t * 1000)).toISOString().replace('.000Z', 'Z');

function measurementLines(v: Pick<Verdict, 'measurements'>): string[] {
  const out: string[] = [];
  for (const [k, val] of Object.entries(v.measurements)) {
    if (val === undefined) continue;
    if (Array.isArray(val)) val.forEach((x, i) => out.push(`  ${k}[${i}]: ${x}`));
    else if (typeof val === 'object') for (const [i, x] of Object.entries(val)) out.push(`  ${k}[${i}]: ${x}`);
    else out.push(`  ${k}: ${val}`);
  }
  return out;
}

/**
 * Implements `attest verify`. Returns the exit code (also set on process.exitCode by the command).
 */
export async function runAttestVerify(
  file: string,
  opts: { collateral?: string; now?: string; policy?: string; json?: boolean; onchain?: boolean },
  io: AttestIo = defaultIo,
): Promise<number> {
  let now: number;
  let nowSource: 'option' | 'clock' | 'document';
  let evidence: Uint8Array;
  let collateral: Uint8Array | string | undefined;
  let policy: Policy | Record<string, never> = {};
  try {
    if (opts.now !== undefined) {
      const n = parseNow(opts.now);
      if (n === null) throw Object.assign(new Error(`--now must be unix seconds or ISO-8601, got "${opts.now}"`), { code: 'CLI_ARGUMENT' });
      now = n;
      nowSource = 'option';
    } else {
      now = io.clock();
      nowSource = 'clock';
    }
    evidence = new Uint8Array(readFileSync(file));
    // A Nitro document carries its own signing time; its leaf certificate lives only hours, so without --now the
    // document is checked at that timestamp (as AWS's own verifiers do), not at the wall clock.
    if (nowSource === 'clock') {
      const det = detectEvidence(evidence);
      if (det.kind === 'nitro') {
        now = parseNitroDocument(det.bytes).timestampMs / 1000;
        nowSource = 'document';
      }
    }
    if (opts.collateral) {
      const raw = new Uint8Array(readFileSync(opts.collateral));
      collateral = detectEvidence(evidence).kind === 'dcap' ? Buffer.from(raw).toString('utf8') : raw;
    }
    if (opts.policy) policy = loadPolicy(opts.policy);
    if (opts.onchain && (detectEvidence(evidence).kind !== 'dcap' || typeof collateral !== 'string')) {
      throw Object.assign(new Error('--onchain verifies Intel DCAP quotes (SGX, TDX) and needs --collateral'), { code: 'CLI_ARGUMENT' });
    }
  } catch (e) {
    const err = errJson(e, 'input');
    if (err.code === 'CLI_UNEXPECTED' && (e as { code?: string }).code === undefined) err.code = 'CLI_ARGUMENT';
    if ((e as NodeJS.ErrnoException).syscall) err.code = 'CLI_FILE';
    if (opts.json) io.out(JSON.stringify({ accepted: false, error: err }));
    else io.out(`REFUSED (${err.code}): ${err.message}${docsLink(err.docsPath) ? `\n  see ${docsLink(err.docsPath)}` : ''}`);
    return err.code.startsWith('CLI_') ? 2 : 1;
  }

  let verdict: Verdict | undefined;
  let error: ErrorJson | undefined;
  try {
    verdict = await verifyAttestation(evidence, { collateral, now });
  } catch (e) {
    error = errJson(e, 'verify');
  }
  if (verdict && !error) {
    try {
      evaluatePolicy(verdict, policy, { now });
    } catch (e) {
      error = errJson(e, 'policy');
    }
  }
  let onchain: OnchainAttestResult | undefined;
  let onchainError: ErrorJson | undefined;
  if (opts.onchain) {
    try {
      // Loaded only for --onchain: it brings in EDR and the contract artifacts, which every other command skips.
      const { verifyOnchain } = await import('./attest-onchain.ts');
      io.progress?.('verifying on-chain: an in-process EVM with the DCAP verifier and its collateral registry');
      onchain = await verifyOnchain(detectEvidence(evidence).bytes, collateral as string, now);
    } catch (e) {
      onchainError = errJson(e, 'onchain');
    }
  }
  if (onchainError && !error) error = onchainError;
  const accepted = !!verdict && !error;
  const onchainJson = !opts.onchain
    ? {}
    : onchain
      ? {
          onchain: {
            gasQuote: onchain.gasQuote,
            gasRegistration: onchain.gasRegistration,
            gasQuoteCached: onchain.gasQuoteCached,
            status: onchain.verdict.status,
            advisoryIds: [...onchain.verdict.advisoryIds].sort(),
            measurement: onchain.verdict.measurement.slice(2),
            reportData: onchain.verdict.reportData.slice(2),
          },
        }
      : { onchain: { error: onchainError } };
  if (opts.json) {
    io.out(
      JSON.stringify({
        accepted,
        status: verdict?.status ?? null,
        advisoryIds: verdict?.advisoryIds ?? [],
        teeType: verdict?.teeType ?? safeKind(evidence),
        version: verdict?.version ?? null,
        measurements: verdict?.measurements ?? null,
        debug: verdict?.debug ?? null,
        simulated: verdict?.simulated ?? null,
        validFrom: verdict?.validFrom ?? null,
        validUntil: verdict?.validUntil ?? null,
        collateralIssuedAt: verdict?.collateralIssuedAt ?? null,
        fmspc: verdict?.fmspc ?? null,
        pceId: verdict?.pceId ?? null,
        trailingBytes: verdict?.trailingBytes ?? 0,
        now: iso(now),
        nowSource,
        checks: verdict?.checks ?? [],
        ...onchainJson,
        ...(error ? { code: error.code, message: error.message, error } : {}),
      }),
    );
  } else {
    const lines: string[] = [];
    if (verdict) {
      lines.push(`TEE: ${verdict.teeType} (format version ${verdict.version})${verdict.simulated ? ' SIMULATED' : ''}${verdict.debug ? ' DEBUG' : ''}`);
      lines.push(`TCB status: ${verdict.status}`);
      lines.push(`advisories: ${verdict.advisoryIds.length ? verdict.advisoryIds.join(', ') : 'none'}`);
      if (verdict.fmspc) lines.push(`FMSPC: ${verdict.fmspc}  PCE-ID: ${verdict.pceId}`);
      if (verdict.validFrom) lines.push(`valid: ${verdict.validFrom} .. ${verdict.validUntil}`);
      lines.push('measurements:', ...measurementLines(verdict));
      lines.push('checks passed:', ...verdict.checks.map((c) => `  ✔ ${c}`));
    }
    if (onchain) {
      const v = onchain.verdict;
      lines.push(`on-chain verifier: ${v.status}${v.advisoryIds.length ? ` (${[...v.advisoryIds].sort().join(', ')})` : ''}, measurement ${v.measurement}`);
      lines.push(`  gas: quote ${onchain.gasQuote} (new platform), ${onchain.gasQuoteCached} (PCK chain cached); collateral registration ${onchain.gasRegistration}`);
    } else if (onchainError) lines.push(`on-chain verifier refused: ${onchainError.code}`);
    if (error) {
      lines.push(`${error.stage === 'policy' ? 'policy refused' : error.stage === 'onchain' ? 'on-chain verification failed' : 'verification failed'}: ${error.code}`);
      lines.push(`  ${error.message}`);
      const link = docsLink(error.docsPath);
      if (link) lines.push(`  see ${link}`);
      lines.push(`REFUSED ${atTime(now, nowSource)}`);
    } else lines.push(`ACCEPTED${opts.policy ? ` by policy ${opts.policy}` : ' by the default policy'} ${atTime(now, nowSource)}`);
    io.out(lines.join('\n'));
  }
  return accepted ? 0 : 1;
}

/**
 * The verification instant, printed with the verdict (never before it, so a refusal is not preceded by a line that
 * reads like success). `source` says where it came from: --now, the local clock, or a Nitro document's timestamp.
 */
function atTime(now: number, source: 'option' | 'clock' | 'document'): string {
  if (source === 'clock') return `at ${iso(now)} (the current time: no --now given)`;
  if (source === 'document') return `at ${iso(now)} (the document's own timestamp: no --now given)`;
  return `at ${iso(now)} (--now)`;
}

function safeKind(b: Uint8Array): string | null {
  try {
    const d = detectEvidence(b);
    return d.teeType;
  } catch {
    return null;
  }
}

/**
 * SEV-SNP ATTESTATION_REPORT fields for `attest inspect` (AMD SEV-SNP ABI spec 56860, table "ATTESTATION_REPORT
 * Structure"): the same measurement names `attest verify` reports, then the other fields; hex strings, bigints as
 * hex, no verification. Throws the parser's DecodeError on a malformed report.
 */
function snpFields(bytes: Uint8Array): Record<string, unknown> {
  const r = parseSnpReport(bytes);
  const fw = (major: number, minor: number, build: number) => `${major}.${minor}.${build}`;
  return {
    measurements: { measurement: r.measurement, hostData: r.hostData, reportData: r.reportData, policy: r.policy.toString(16).padStart(16, '0'), chipId: r.chipId, reportedTcb: r.reportedTcb, vmpl: r.vmpl },
    debug: r.debug,
    guestSvn: r.guestSvn,
    familyId: r.familyId,
    imageId: r.imageId,
    signatureAlgo: r.signatureAlgo,
    signingKey: r.signingKey === 0 ? 'VCEK' : r.signingKey === 1 ? 'VLEK' : r.signingKey === 7 ? 'none' : `reserved (${r.signingKey})`,
    authorKeyEn: r.authorKeyEn,
    maskChipKey: r.maskChipKey,
    platformInfo: r.platformInfo.toString(16).padStart(16, '0'),
    tcb: { current: r.currentTcb, committed: r.committedTcb, launch: r.launchTcb },
    firmware: { current: fw(r.currentMajor, r.currentMinor, r.currentBuild), committed: fw(r.committedMajor, r.committedMinor, r.committedBuild) },
    ...(r.cpuidFamId !== undefined ? { cpuid: { family: r.cpuidFamId, model: r.cpuidModId, stepping: r.cpuidStep } } : {}),
    idKeyDigest: r.idKeyDigest,
    authorKeyDigest: r.authorKeyDigest,
    reportId: r.reportId,
    reportIdMa: r.reportIdMa,
  };
}

/** AWS Nitro attestation document fields for `attest inspect` (COSE_Sign1 payload; no verification). */
function nitroFields(bytes: Uint8Array): Record<string, unknown> {
  const n = parseNitroDocument(bytes);
  const hx = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : null);
  return {
    measurements: { pcrs: Object.fromEntries([...n.pcrs].sort(([a], [b]) => a - b).map(([i, v]) => [i, hx(v)])), moduleId: n.moduleId },
    digest: n.digest,
    timestamp: new Date(n.timestampMs).toISOString(),
    caBundleCertificates: n.cabundle.length,
    publicKey: hx(n.publicKey),
    userData: hx(n.userData),
    nonce: hx(n.nonce),
  };
}

/** Implements `attest inspect`: structure only, no verification. */
export function runAttestInspect(file: string, opts: { json?: boolean }, io: AttestIo = defaultIo): number {
  let info: Record<string, unknown>;
  try {
    const d = detectEvidence(new Uint8Array(readFileSync(file)));
    info = { kind: d.kind, teeType: d.teeType, encoding: d.encoding, version: d.version, length: d.bytes.length };
    if (d.kind === 'dcap') {
      const q = parseQuote(d.bytes);
      const hx = (b: Uint8Array) => Buffer.from(b).toString('hex');
      const pem = q.signatureData.qe.certification.pemChain ?? '';
      info = {
        ...info,
        header: { version: q.header.version, attestationKeyType: q.header.attestationKeyType, teeType: q.header.teeType, qeSvn: q.header.qeSvn, pceSvn: q.header.pceSvn, qeVendorId: hx(q.header.qeVendorId), userData: hx(q.header.userData) },
        body: q.body.kind,
        bodyDescriptor: q.bodyDescriptor ?? null,
        measurements: quoteMeasurements(q),
        debug: quoteIsDebug(q),
        qe: { isvProdId: q.signatureData.qe.qeReport.isvProdId, isvSvn: q.signatureData.qe.qeReport.isvSvn, mrSigner: hx(q.signatureData.qe.qeReport.mrSigner) },
        certificationDataType: q.signatureData.outerCertType,
        pckChainCertificates: (pem.match(/BEGIN CERTIFICATE/g) ?? []).length,
        signatureDataLength: q.signatureDataLength,
        trailingBytes: q.trailingBytes,
      };
    } else if (d.kind === 'sev-snp') info = { ...info, ...snpFields(d.bytes) };
    else info = { ...info, ...nitroFields(d.bytes) };
  } catch (e) {
    const err = errJson(e, 'input');
    if ((e as NodeJS.ErrnoException).syscall) err.code = 'CLI_FILE';
    io.out(opts.json ? JSON.stringify({ ok: false, error: err }) : `cannot inspect ${file}: ${err.code}: ${err.message}`);
    return err.code.startsWith('CLI_') ? 2 : 1;
  }
  if (opts.json) io.out(JSON.stringify({ ok: true, ...info }));
  else {
    const lines = [`${info.kind} evidence (${info.teeType}, version ${info.version}, ${info.encoding}, ${info.length} bytes)`];
    for (const [k, v] of Object.entries(info)) {
      if (['kind', 'teeType', 'version', 'encoding', 'length'].includes(k)) continue;
      if (k === 'measurements') lines.push('measurements:', ...measurementLines({ measurements: v as Verdict['measurements'] }));
      else lines.push(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
    }
    io.out(lines.join('\n'));
  }
  return 0;
}

/** Registers `attest verify` and `attest inspect` on a commander program. */
export function registerAttestCommands(program: Command): void {
  const attest = program.command('attest').description('Verify or inspect TEE evidence (Intel SGX/TDX DCAP quotes, AMD SEV-SNP reports, AWS Nitro documents)');
  attest
    .command('verify')
    .argument('<file>', 'evidence: binary, hex (0x optional) or base64')
    .option('--collateral <file>', 'DCAP: collateral JSON (dcap-qvl QuoteCollateralV3); SEV-SNP: VCEK certificate (DER or PEM)')
    .option('--now <time>', 'verification time, ISO-8601 or unix seconds (default: the current time)')
    .option('--policy <file>', 'policy, JSON or YAML (default: strict default policy)')
    .option('--onchain', 'DCAP: also verify with the on-chain verifier on an in-process devnet (block time = --now) and report its gas')
    .option('--json', 'print one JSON object')
    .description('Verify evidence and apply a policy; exit code 0 only when accepted')
    .action(async (file: string, opts: { collateral?: string; now?: string; policy?: string; json?: boolean; onchain?: boolean }) => {
      process.exitCode = await runAttestVerify(file, opts, { ...defaultIo, progress: progressSink(!!opts.json) });
    });
  attest
    .command('inspect')
    .argument('<file>', 'evidence: binary, hex (0x optional) or base64')
    .option('--json', 'print one JSON object')
    .description('Show the structure and measurements of evidence without verifying it')
    .action((file: string, opts: { json?: boolean }) => {
      process.exitCode = runAttestInspect(file, opts);
    });
}
