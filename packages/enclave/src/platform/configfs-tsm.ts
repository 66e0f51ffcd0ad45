/**
 * Intel TDX and AMD SEV-SNP through the Linux configfs-tsm report interface (kernel >= 6.7,
 * Documentation/ABI/testing/configfs-tsm): `<root>/<entry>/{inblob, outblob, auxblob, provider, generation}` under
 * root `/sys/kernel/config/tsm/report` (GEODE_TSM_ROOT or `root` moves it; the evidence, not the path, is checked).
 *
 * One evidence request (numbers map 1:1 to {@link tsmReport}):
 *  1. mkdir a fresh entry `geode-<pid>-<random>`; configfs populates its attributes.
 *  2. `provider` must name the TEE this bundle was built for (`tdx_guest` / `sev_guest`).   ENCLAVE_PLATFORM_MISMATCH
 *  3. write the 64 bytes of report data to `inblob`.
 *  4. read `generation` (g1), read `outblob` (the kernel generates the quote/report here), read `auxblob` when the
 *     provider has one (SNP: the certificate table), read `generation` again (g2).
 *  5. g1 != g2 means another writer changed the entry between our write and our read.       ENCLAVE_PLATFORM_RACE
 *  6. rmdir the entry (also when a step failed).
 *  7. parse the evidence (TDX quote v4/v5 with @geode/attestation parseQuote; SNP report with parseSnpReport); its
 *     REPORTDATA must be the 64 bytes written and its identity the one measured at open.   ENCLAVE_PLATFORM_MISMATCH
 *     An SNP certificate table (auxblob) over SNP_MAX_CERT_TABLE_BYTES is refused.          ENCLAVE_ATTESTOR_UNAVAILABLE
 * An I/O failure in 1-4 is ENCLAVE_ATTESTOR_UNAVAILABLE. Parsing never verifies signatures: that is the relying
 * party's job (verifyDcapQuote / verifySnpReport); the enclave only refuses to hand out evidence that is not its own.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseQuote } from '@geode/attestation/evidence';
import { snpEnclaveIdentity, tdxEnclaveIdentity } from '@geode/attestation/evidence';
import { SNP_MAX_CERT_TABLE_BYTES, parseSnpReport } from '@geode/attestation/evidence';
import { EnclaveError } from '../errors.ts';
import { nodePlatformFiles, type PlatformFiles } from './files.ts';
import type { PlatformEvidence, SnpPlatform, TdxPlatform } from './platform.ts';

/** Default configfs-tsm report directory. */
export const TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report';
/** `provider` contents per TEE (drivers/virt/coco/tdx-guest, drivers/virt/coco/sev-guest). */
export const TSM_PROVIDERS = { tdx: 'tdx_guest', 'sev-snp': 'sev_guest' } as const;

/** Options of {@link openConfigfsTsmPlatform}. */
export interface ConfigfsTsmOptions {
  /** The TEE this bundle was built for. */
  tee: 'tdx' | 'sev-snp';
  /** Report root; default env GEODE_TSM_ROOT, else /sys/kernel/config/tsm/report. */
  root?: string;
  /** File interface; default node:fs. */
  files?: PlatformFiles;
}

interface RawReport { outblob: Uint8Array; auxblob: Uint8Array | null }

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8').trim();

function unavailable(what: string, e: unknown, path: string): EnclaveError {
  return new EnclaveError('ENCLAVE_ATTESTOR_UNAVAILABLE', `configfs-tsm ${what} failed at ${path}: ${(e as Error).message}. Run the enclave in a TDX/SEV-SNP guest with kernel >= 6.7 and configfs mounted (mount -t configfs none /sys/kernel/config), or point GEODE_TSM_ROOT at it.`, { cause: e, details: { path } });
}

/** Steps 1-6 of the module doc: one report request through configfs-tsm. */
export function tsmReport(files: PlatformFiles, root: string, tee: 'tdx' | 'sev-snp', reportData: Uint8Array): RawReport {
  if (reportData.length !== 64) throw new EnclaveError('ENCLAVE_INTERNAL', `Report data must be 64 bytes, got ${reportData.length}.`);
  const entry = join(root, `geode-${process.pid}-${randomBytes(6).toString('hex')}`);
  try { files.mkdir(entry); } catch (e) { throw unavailable('mkdir', e, entry); }                               // 1
  try {
    let provider: string;
    try { provider = text(files.read(join(entry, 'provider'))); } catch (e) { throw unavailable('read provider', e, entry); }
    if (provider !== TSM_PROVIDERS[tee]) {                                                                         // 2
      throw new EnclaveError('ENCLAVE_PLATFORM_MISMATCH', `configfs-tsm provider is "${provider}", but this bundle was built for ${tee} (${TSM_PROVIDERS[tee]}); rebuild it for the TEE it runs on.`, { details: { provider, tee } });
    }
    let g1: string; let g2: string; let outblob: Uint8Array; let auxblob: Uint8Array | null = null;
    try {
      files.write(join(entry, 'inblob'), reportData);                                                              // 3
      g1 = text(files.read(join(entry, 'generation')));                                                            // 4
      outblob = files.read(join(entry, 'outblob'));
      if (tee === 'sev-snp' && files.exists(join(entry, 'auxblob'))) auxblob = files.read(join(entry, 'auxblob'));
      g2 = text(files.read(join(entry, 'generation')));
    } catch (e) {
      throw unavailable('report request', e, entry);
    }
    if (g1 !== g2) {                                                                                               // 5
      throw new EnclaveError('ENCLAVE_PLATFORM_RACE', `configfs-tsm entry ${entry} changed while its report was read (generation ${g1} -> ${g2}); another process writes to it. Retry; make sure nothing else uses Geode's entries.`, { details: { entry, before: g1, after: g2 } });
    }
    return { outblob, auxblob: auxblob && auxblob.length > 0 ? auxblob : null };
  } finally {
    try { files.rmdir(entry); } catch { /* the kernel drops it with the process's last reference anyway */ }     // 6
  }
}

function mismatch(what: string, details: Record<string, unknown>): EnclaveError {
  return new EnclaveError('ENCLAVE_PLATFORM_MISMATCH', `The attestation device answered with ${what}; the device or its driver is not trustworthy for this enclave. Do not use this machine.`, { details });
}

/** Step 7 for TDX: the quote's TD report, checked against the request. */
function tdxFields(quote: Uint8Array, reportData: Uint8Array): { mrTd: Uint8Array; rtmrs: [Uint8Array, Uint8Array, Uint8Array, Uint8Array]; identity: Uint8Array } {
  let q: ReturnType<typeof parseQuote>;
  try { q = parseQuote(quote); } catch (e) { throw mismatch('bytes that are not a DCAP quote', { cause: (e as Error).message }); }
  if (q.teeType !== 'tdx' || q.body.kind === 'sgx') throw mismatch('a quote that is not a TDX quote', { version: q.header.version });
  const r = q.body.report;
  if (hex(r.reportData) !== hex(reportData)) throw mismatch('a quote over other report data', { reportData: hex(r.reportData) });
  const rtmrs = r.rtmrs.map((x) => new Uint8Array(x)) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  return { mrTd: new Uint8Array(r.mrTd), rtmrs, identity: tdxEnclaveIdentity(r.mrTd, rtmrs) };
}

/** Step 7 for SEV-SNP. */
function snpFields(report: Uint8Array, reportData: Uint8Array): { launchMeasurement: Uint8Array; identity: Uint8Array } {
  let r: ReturnType<typeof parseSnpReport>;
  try { r = parseSnpReport(report); } catch (e) { throw mismatch('bytes that are not an SEV-SNP report', { cause: (e as Error).message }); }
  if (r.reportData !== hex(reportData)) throw mismatch('a report over other report data', { reportData: r.reportData });
  const m = new Uint8Array(Buffer.from(r.measurement, 'hex'));
  return { launchMeasurement: m, identity: snpEnclaveIdentity(m) };
}

/**
 * Open the TDX or SEV-SNP platform: one probe report (report data = 64 zero bytes) fixes the identity the platform
 * claims (MRTD + RTMRs, or the SNP MEASUREMENT); every later piece of evidence must carry that same identity (an
 * RTMR extended after open is a new identity, ENCLAVE_PLATFORM_MISMATCH). Sealing: none (docs/enclave.md#platform).
 * Throws ENCLAVE_ATTESTOR_UNAVAILABLE / ENCLAVE_PLATFORM_MISMATCH / ENCLAVE_PLATFORM_RACE.
 */
export async function openConfigfsTsmPlatform(opts: ConfigfsTsmOptions): Promise<TdxPlatform | SnpPlatform> {
  const files = opts.files ?? nodePlatformFiles;
  const root = opts.root ?? process.env.GEODE_TSM_ROOT ?? TSM_REPORT_ROOT;
  const tee = opts.tee;
  const probe = new Uint8Array(64);
  const first = tsmReport(files, root, tee, probe);
  if (tee === 'tdx') {
    const f = tdxFields(first.outblob, probe);
    const evidence = (reportData: Uint8Array): PlatformEvidence => {
      const { outblob } = tsmReport(files, root, tee, reportData);
      const g = tdxFields(outblob, reportData);
      if (hex(g.identity) !== hex(f.identity)) throw mismatch('another TD identity (MRTD/RTMRs changed since open)', { opened: hex(f.identity), now: hex(g.identity) });
      return { kind: 'dcap-quote', quote: outblob };
    };
    return { teeType: 'tdx', simulated: false, measurement: f.identity, mrTd: f.mrTd, rtmrs: f.rtmrs, sealing: { kind: 'none', reason: 'TDX offers no sealing key to the guest' }, evidence };
  }
  const f = snpFields(first.outblob, probe);
  const evidence = (reportData: Uint8Array): PlatformEvidence => {
    const { outblob, auxblob } = tsmReport(files, root, tee, reportData);
    if (auxblob && auxblob.length > SNP_MAX_CERT_TABLE_BYTES) {
      // Evidence no peer would accept (docs/protocol.md#evidence-encoding): refuse it here, where the cause is plain.
      throw new EnclaveError('ENCLAVE_ATTESTOR_UNAVAILABLE', `configfs-tsm auxblob is ${auxblob.length} bytes, more than the ${SNP_MAX_CERT_TABLE_BYTES}-byte SEV-SNP certificate table Geode carries; provision only AMD's VCEK (or VLEK), ASK and ARK as the host's certificate blob.`, { details: { length: auxblob.length, max: SNP_MAX_CERT_TABLE_BYTES } });
    }
    const g = snpFields(outblob, reportData);
    if (hex(g.identity) !== hex(f.identity)) throw mismatch('another SNP launch measurement', { opened: hex(f.identity), now: hex(g.identity) });
    return { kind: 'snp-report', report: outblob, certificates: auxblob };
  };
  return { teeType: 'sev-snp', simulated: false, measurement: f.identity, launchMeasurement: f.launchMeasurement, sealing: { kind: 'none', reason: 'SEV-SNP derived keys need the /dev/sev-guest ioctl, which Geode does not use' }, evidence };
}
