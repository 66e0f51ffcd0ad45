/**
 * Evidence detection and dispatch: DCAP (SGX/TDX quotes), AMD SEV-SNP reports, AWS Nitro
 * attestation documents.
 *
 * `detectEvidence` accepts binary, hex text (with or without 0x) or base64 text, as bytes or a
 * string, and classifies it by structure (./kind.ts):
 * - DCAP quote: u16 LE version 3/4/5, u16 attestation key type 2, u32 TEE type 0 (SGX) / 0x81 (TDX)
 *   (Intel SGX ECDSA Quote Library API A.3.1; TDX DCAP Quoting Library API A.3.1).
 * - Nitro: COSE_Sign1 (RFC 9052 4.2), CBOR array of 4 (0x84) optionally under tag 18 (0xD2)
 *   (AWS Nitro Enclaves User Guide, "Attestation document").
 * - SEV-SNP: 1184-byte ATTESTATION_REPORT, version 2..5, SIGNATURE_ALGO 1 at 0x34
 *   (AMD SEV-SNP ABI Specification 56860, Table 22).
 *
 * `verifyAttestation` dispatches to `verifyDcapQuote`, `verifySnpReport`, `verifyNitroDocument`.
 * SNP and Nitro verifiers are loaded lazily (they live in src/snp, src/nitro), hence async.
 */
import { CollateralMissingError, DecodeError, UnsupportedEvidenceError } from './errors.ts';
import type { Verdict } from './types.ts';
import { classifyEvidence, type EvidenceClass, type EvidenceKind } from './kind.ts';
import { verifyDcapQuote, type VerifyDcapOptions } from './dcap/verify.ts';
import { parseCollateral, type QuoteCollateral } from './dcap/collateral.ts';
import type { DcapCache } from './dcap/cache.ts';

export type { EvidenceKind };

/** Result of {@link detectEvidence}. */
export interface DetectedEvidence extends EvidenceClass {
  /** Decoded binary evidence. */
  bytes: Uint8Array;
  /** How the input was encoded. */
  encoding: 'binary' | 'hex' | 'base64';
}

const classify = classifyEvidence;

const HEX_RE = /^(?:0x)?((?:[0-9a-fA-F]{2})+)$/;
const B64_RE = /^[A-Za-z0-9+/_-]+={0,2}$/;

function textOf(b: Uint8Array): string | null {
  if (b.length === 0 || b.length > 64 * 1024 * 1024) return null;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 9 && c !== 10 && c !== 13 && (c < 32 || c > 126)) return null;
  }
  return Buffer.from(b).toString('latin1');
}

/**
 * Detects and decodes evidence.
 * @param input raw bytes, or text (hex with/without 0x, or base64; whitespace ignored); a
 *   Uint8Array that is entirely printable text is treated as text.
 * @throws UnsupportedEvidenceError when the bytes are not a DCAP quote, SNP report or Nitro document.
 * @throws DecodeError when text is neither hex nor base64.
 */
export function detectEvidence(input: Uint8Array | string): DetectedEvidence {
  if (input instanceof Uint8Array) {
    const c = classify(input);
    if (c) return { ...c, bytes: input, encoding: 'binary' };
    const t = textOf(input);
    if (t === null) throw new UnsupportedEvidenceError('Evidence is not a DCAP quote, SEV-SNP report or Nitro attestation document', { details: { length: input.length } });
    input = t;
  }
  const s = input.replace(/\s+/g, '');
  let bytes: Uint8Array;
  let encoding: DetectedEvidence['encoding'];
  const h = HEX_RE.exec(s);
  if (h) {
    bytes = new Uint8Array(Buffer.from(h[1], 'hex'));
    encoding = 'hex';
  } else if (B64_RE.test(s) && s.length % 4 !== 1) {
    bytes = new Uint8Array(Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
    encoding = 'base64';
  } else {
    throw new DecodeError('Evidence text is neither hex nor base64', { details: { length: s.length } });
  }
  const c = classify(bytes);
  if (!c) throw new UnsupportedEvidenceError(`Evidence (${encoding}) is not a DCAP quote, SEV-SNP report or Nitro attestation document`, { details: { length: bytes.length, encoding } });
  return { ...c, bytes, encoding };
}

/** Options of {@link verifyAttestation}. */
export interface VerifyAttestationOptions {
  /** Verification time, unix seconds. Nitro: default the document's own timestamp. DCAP/SNP: required. */
  now?: number;
  /**
   * DCAP: the collateral (QuoteCollateral object, or its JSON text/bytes).
   * SEV-SNP: the VCEK/VLEK certificate (DER bytes or PEM text); default the evidence's certificate table.
   * Nitro: unused.
   */
  collateral?: QuoteCollateral | string | Uint8Array | object;
  /**
   * Trust roots substituting the pinned ones: `intelRootCaDer` (DCAP), `amdArkDer` (SEV-SNP, a test PKI's ARK; needs
   * the chain from `amdCertChainPem` or the evidence's certificate table). Any other root makes the verdict simulated.
   */
  roots?: { intelRootCaDer?: Uint8Array; amdCertChainPem?: string; amdArkDer?: Uint8Array };
  /** SEV-SNP product when the report does not say (Milan/Genoa/Turin). */
  snpProduct?: 'Milan' | 'Genoa' | 'Turin';
  /** DCAP cache (see dcap/cache.ts); default the module-level LRU. */
  cache?: DcapCache | null;
}

function requireNow(now: number | undefined, kind: string): number {
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError(`verifyAttestation: opts.now (unix seconds) is required for ${kind}`);
  return now;
}

function vcekDer(c: unknown): Uint8Array {
  const text = typeof c === 'string' ? c : c instanceof Uint8Array ? (textOf(c) ?? '') : '';
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  if (m) return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
  if (c instanceof Uint8Array) return c;
  throw new DecodeError('SEV-SNP collateral must be the VCEK certificate (DER bytes or PEM)');
}

/**
 * Detects the evidence type and verifies it (crypto + collateral only; apply `evaluatePolicy` after).
 * @param evidence bytes or text, see {@link detectEvidence}.
 * @returns the verifier's {@link Verdict}.
 * @throws CollateralMissingError (DCAP without collateral, SNP without VCEK), and every error of
 *   the dispatched verifier.
 */
export async function verifyAttestation(evidence: Uint8Array | string, opts: VerifyAttestationOptions): Promise<Verdict> {
  const ev = detectEvidence(evidence);
  if (ev.kind === 'dcap') {
    if (opts.collateral === undefined) {
      throw new CollateralMissingError('DCAP quotes need collateral (TCB Info, QE Identity, CRLs): fetch it from Intel PCS or a PCCS (see docs/attestation.md#collateral)');
    }
    const col = parseCollateral(opts.collateral);
    const o: VerifyDcapOptions = { now: requireNow(opts.now, 'DCAP quotes'), rootCaDer: opts.roots?.intelRootCaDer };
    if (opts.cache !== undefined) o.cache = opts.cache;
    return verifyDcapQuote(ev.bytes, col, o);
  }
  if (ev.kind === 'sev-snp') {
    const snp = await import('./snp/index.ts');
    // Geode's SNP evidence on the wire (docs/attestation.md#snp-evidence): the report, then the certificate table
    // the platform returned next to it, if any (snp/evidence.ts). `collateral` and `roots.amdCertChainPem` replace
    // the table's VCEK and ASK/ARK; the ARK must still be the pinned AMD root (or `roots.amdArkDer`).
    return snp.verifySnpEvidence(ev.bytes, {
      now: requireNow(opts.now, 'SEV-SNP reports'),
      vcekDer: opts.collateral !== undefined ? vcekDer(opts.collateral) : undefined,
      certChainPem: opts.roots?.amdCertChainPem,
      product: opts.snpProduct,
      trustedArkDer: opts.roots?.amdArkDer,
    });
  }
  let nitro: { verifyNitroDocument(d: Uint8Array, o: { now?: number }): Verdict };
  try {
    nitro = (await import('./nitro/index.ts')) as unknown as typeof nitro;
  } catch (e) {
    throw new UnsupportedEvidenceError('The Nitro verifier is not available in this build', { cause: e });
  }
  return nitro.verifyNitroDocument(ev.bytes, { now: opts.now });
}
