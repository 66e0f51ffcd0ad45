/**
 * Collateral source: fetches DCAP collateral from Intel PCS (API v4) or a PCCS, with an
 * in-memory and optional on-disk cache keyed by TEE type, FMSPC and PCK CA.
 *
 * Never called by verification (verify.ts is pure); use it beforehand to obtain the
 * {@link QuoteCollateral} you then pass to `verifyDcapQuote`. The fetched collateral is NOT
 * trusted by this module: every signature and window is checked at verification time.
 *
 * Endpoints (Intel "Provisioning Certification Service for ECDSA Attestation" API v4; a PCCS
 * exposes the same paths under its base URL, e.g. https://localhost:8081):
 *   GET {base}/{sgx|tdx}/certification/v4/tcb?fmspc={FMSPC}   body {"tcbInfo":…,"signature":…},
 *        header TCB-Info-Issuer-Chain (URL-encoded PEM)
 *   GET {base}/{sgx|tdx}/certification/v4/qe/identity          body {"enclaveIdentity":…,"signature":…},
 *        header SGX-Enclave-Identity-Issuer-Chain
 *   GET {base}/sgx/certification/v4/pckcrl?ca={processor|platform}&encoding=der
 *        body DER CRL, header SGX-PCK-CRL-Issuer-Chain
 *   Root CA CRL: PCS https://certificates.trustedservices.intel.com/IntelSGXRootCA.der;
 *        PCCS {base}/sgx/certification/v4/rootcacrl (DER, or hex text on older PCCS).
 *
 * Errors: {@link CollateralFetchError} (`ATTEST_COLLATERAL_FETCH`) on HTTP/network failures or
 * missing headers; DecodeError on malformed bodies.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '@geode/protocol/files';
import { join } from 'node:path';
import { CollateralFetchError, UnsupportedVersionError } from '../errors.ts';
import { collateralFromPcsBodies, type QuoteCollateral } from './collateral.ts';
import { parseQuote } from './quote.ts';
import { parseCert, parsePckExtension, pemToDers } from './x509.ts';

/** Intel PCS base URL. */
export const INTEL_PCS_URL = 'https://api.trustedservices.intel.com';
/** Intel Root CA CRL (PCS). */
export const INTEL_ROOT_CA_CRL_URL = 'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der';

/** Minimal fetch signature (global `fetch` fits). */
export type FetchFn = (url: string, init?: { headers?: Record<string, string> }) => Promise<{
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** Options of {@link PcsCollateralSource}. */
export interface CollateralSourceOptions {
  /** PCS or PCCS base URL (no trailing /sgx...). Default Intel PCS. */
  baseUrl?: string;
  /** True when `baseUrl` is a PCCS (root CA CRL then comes from {base}/sgx/certification/v4/rootcacrl). */
  pccs?: boolean;
  /** Injected fetch (tests, proxies). Default global fetch. */
  fetch?: FetchFn;
  /** Directory for the on-disk cache (one JSON file per key). Default: memory only. */
  cacheDir?: string;
  /** Intel PCS subscription key header (Ocp-Apim-Subscription-Key), if any. */
  apiKey?: string;
  /**
   * Clock used only to expire cache entries (unix seconds); default Date.now()/1000. Cached
   * collateral is reused until its TCB Info / QE Identity nextUpdate.
   */
  clock?: () => number;
}

/** What identifies a platform's collateral. */
export interface CollateralKey {
  tee: 'sgx' | 'tdx';
  /** 6 bytes hex. */
  fmspc: string;
  /** PCK CA that issued the PCK certificate. */
  ca: 'processor' | 'platform';
}

/**
 * Reads the collateral key (TEE type, FMSPC, PCK CA) from a quote's embedded PCK certificate.
 * @throws DecodeError / UnsupportedVersionError / ChainInvalidError on a malformed quote.
 */
export function collateralKeyForQuote(quote: Uint8Array): CollateralKey {
  const q = parseQuote(quote);
  const pem = q.signatureData.qe.certification.pemChain;
  if (!pem) throw new UnsupportedVersionError('The quote does not embed its PCK certificate chain (certification data type 5)');
  const ders = pemToDers(pem, 'PCK certificate chain');
  const leaf = parseCert(ders[0], 'PCK certificate');
  return { tee: q.teeType, fmspc: parsePckExtension(ders[0]).fmspc, ca: /Processor/i.test(leaf.issuerCN) ? 'processor' : 'platform' };
}

/** Fetches and caches collateral from Intel PCS or a PCCS. */
export class PcsCollateralSource {
  private readonly base: string;
  private readonly fetchFn: FetchFn;
  private readonly mem = new Map<string, { expires: number; collateral: QuoteCollateral }>();
  /** Number of HTTP requests made (for tests/observability). */
  requests = 0;

  constructor(private readonly opts: CollateralSourceOptions = {}) {
    this.base = (opts.baseUrl ?? INTEL_PCS_URL).replace(/\/+$/, '');
    const f = opts.fetch ?? (globalThis.fetch as unknown as FetchFn | undefined);
    if (!f) throw new CollateralFetchError('No fetch function available: pass opts.fetch');
    this.fetchFn = f;
  }

  private now(): number {
    return this.opts.clock ? this.opts.clock() : Date.now() / 1000;
  }

  private async get(url: string, header?: string): Promise<{ body: Uint8Array; header?: string }> {
    this.requests++;
    let res: Awaited<ReturnType<FetchFn>>;
    try {
      res = await this.fetchFn(url, this.opts.apiKey ? { headers: { 'Ocp-Apim-Subscription-Key': this.opts.apiKey } } : undefined);
    } catch (e) {
      throw new CollateralFetchError(`Fetching ${url} failed: ${(e as Error).message}`, { cause: e, details: { url } });
    }
    if (!res.ok) throw new CollateralFetchError(`Fetching ${url} returned HTTP ${res.status}`, { details: { url, status: res.status } });
    const body = new Uint8Array(await res.arrayBuffer());
    let h: string | undefined;
    if (header) {
      const raw = res.headers.get(header);
      if (!raw) throw new CollateralFetchError(`${url}: response has no ${header} header`, { details: { url, header } });
      h = decodeURIComponent(raw);
    }
    return { body, header: h };
  }

  /** Fetches fresh collateral (no cache). */
  async fetchCollateral(key: CollateralKey): Promise<QuoteCollateral> {
    const b = this.base;
    const fmspc = key.fmspc.toUpperCase();
    const tcb = await this.get(`${b}/${key.tee}/certification/v4/tcb?fmspc=${fmspc}`, 'TCB-Info-Issuer-Chain');
    const qe = await this.get(`${b}/${key.tee}/certification/v4/qe/identity`, 'SGX-Enclave-Identity-Issuer-Chain');
    const crl = await this.get(`${b}/sgx/certification/v4/pckcrl?ca=${key.ca}&encoding=der`, 'SGX-PCK-CRL-Issuer-Chain');
    const root = await this.get(this.opts.pccs ? `${b}/sgx/certification/v4/rootcacrl` : INTEL_ROOT_CA_CRL_URL);
    const text = (u: Uint8Array) => Buffer.from(u).toString('utf8');
    const crlBytes = (u: Uint8Array): Uint8Array | string => (u.length > 0 && u[0] === 0x30 ? u : text(u).trim());
    return collateralFromPcsBodies({
      tcbInfoBody: text(tcb.body),
      tcbInfoIssuerChain: tcb.header as string,
      qeIdentityBody: text(qe.body),
      qeIdentityIssuerChain: qe.header as string,
      pckCrl: crlBytes(crl.body),
      pckCrlIssuerChain: crl.header as string,
      rootCaCrl: crlBytes(root.body),
    });
  }

  private static cacheName(key: CollateralKey): string {
    return `${key.tee}-${key.fmspc.toLowerCase()}-${key.ca}`;
  }

  /**
   * Returns collateral for `key`, from the memory cache, then the disk cache, then the network.
   * Entries are reused until the earliest TCB Info / QE Identity nextUpdate.
   */
  async getCollateral(key: CollateralKey): Promise<QuoteCollateral> {
    const name = PcsCollateralSource.cacheName(key);
    const now = this.now();
    const m = this.mem.get(name);
    if (m && m.expires > now) return m.collateral;
    if (this.opts.cacheDir) {
      try {
        const c = JSON.parse(readFileSync(join(this.opts.cacheDir, `${name}.json`), 'utf8')) as QuoteCollateral;
        const expires = expiry(c);
        if (expires > now) {
          this.mem.set(name, { expires, collateral: c });
          return c;
        }
      } catch {
        // no usable disk entry
      }
    }
    const c = await this.fetchCollateral(key);
    const expires = expiry(c);
    this.mem.set(name, { expires, collateral: c });
    if (this.opts.cacheDir) {
      writeFileAtomic(join(this.opts.cacheDir, `${name}.json`), JSON.stringify(c));
    }
    return c;
  }

  /** Collateral for a quote (key read from its PCK certificate). */
  async getCollateralForQuote(quote: Uint8Array): Promise<QuoteCollateral> {
    return this.getCollateral(collateralKeyForQuote(quote));
  }
}

function expiry(c: QuoteCollateral): number {
  const next = (t: string) => {
    const m = /"nextUpdate"\s*:\s*"([^"]+)"/.exec(t);
    return m ? Date.parse(m[1]) / 1000 : 0;
  };
  return Math.min(next(c.tcb_info), next(c.qe_identity));
}
