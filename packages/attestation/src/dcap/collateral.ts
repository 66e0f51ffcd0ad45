/**
 * DCAP quote collateral: the serialisable object passed to `verifyDcapQuote`, and the parsed
 * TCB Info / QE Identity structures.
 *
 * Wire format: the dcap-qvl `QuoteCollateralV3` JSON (snake_case keys, CRLs and signatures as hex
 * without 0x, issuer chains as PEM text, `tcb_info` / `qe_identity` as the *exact* JSON text of
 * the `"tcbInfo"` / `"enclaveIdentity"` value of the Intel PCS body, because the signature
 * covers those bytes). See Intel "Provisioning Certification Service for ECDSA Attestation"
 * API v4: "Get TCB Info" (SGX/TDX), "Get Quoting Enclave Identity", "Get PCK Cert CRL",
 * and the Root CA CRL at https://certificates.trustedservices.intel.com/IntelSGXRootCA.der.
 *
 * `collateralFromPcsBodies` builds the same object from raw PCS response bodies.
 * Errors: {@link CollateralSignatureError} (`ATTEST_COLLATERAL_SIGNATURE`) for malformed
 * collateral JSON (the signature binds those bytes, so a malformed body is treated as a bad
 * signed object), {@link DecodeError} for malformed hex, {@link CollateralMissingError} for a
 * missing field.
 */
import { z } from 'zod';
import { CollateralMissingError, CollateralSignatureError, DecodeError } from '../errors.ts';
import type { TcbStatus } from '../types.ts';

/** dcap-qvl `QuoteCollateralV3` JSON. All strings; hex is lowercase or uppercase, without 0x. */
export interface QuoteCollateral {
  /** PEM: PCK Platform/Processor CA cert then Intel SGX Root CA cert (the PCK CRL's issuer chain). */
  pck_crl_issuer_chain: string;
  /** Hex of the DER Intel SGX Root CA CRL. */
  root_ca_crl: string;
  /** Hex of the DER PCK CRL (Platform or Processor CA, matching the PCK certificate issuer). */
  pck_crl: string;
  /** PEM: TCB Signing cert then Root CA cert. */
  tcb_info_issuer_chain: string;
  /** Exact JSON text of the `tcbInfo` object (signed bytes). */
  tcb_info: string;
  /** Hex, 64 bytes r||s: ECDSA P-256/SHA-256 signature of `tcb_info` by the TCB Signing key. */
  tcb_info_signature: string;
  /** PEM: TCB Signing cert then Root CA cert. */
  qe_identity_issuer_chain: string;
  /** Exact JSON text of the `enclaveIdentity` object (signed bytes). */
  qe_identity: string;
  /** Hex, 64 bytes r||s. */
  qe_identity_signature: string;
}

const KEYS = [
  'pck_crl_issuer_chain', 'root_ca_crl', 'pck_crl', 'tcb_info_issuer_chain', 'tcb_info',
  'tcb_info_signature', 'qe_identity_issuer_chain', 'qe_identity', 'qe_identity_signature',
] as const;

function toHex(v: unknown, field: string): string {
  if (typeof v === 'string') {
    const h = v.startsWith('0x') ? v.slice(2) : v;
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(h)) throw new DecodeError(`Collateral field ${field} is not hex`, { details: { field } });
    return h.toLowerCase();
  }
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0 && x < 256)) return Buffer.from(v as number[]).toString('hex');
  throw new DecodeError(`Collateral field ${field} must be hex text or bytes`, { details: { field } });
}

/**
 * Normalises collateral given as a `QuoteCollateral` object, its JSON text or bytes.
 * Byte fields may be hex strings (with or without 0x), Uint8Array or number arrays
 * (dcap-qvl's Rust serde form); the result always uses lowercase hex.
 * @throws CollateralMissingError if a field is missing; DecodeError if JSON/hex is malformed.
 */
export function parseCollateral(input: unknown): QuoteCollateral {
  let obj = input;
  if (input instanceof Uint8Array) obj = Buffer.from(input).toString('utf8');
  if (typeof obj === 'string') {
    try {
      obj = JSON.parse(obj);
    } catch (e) {
      throw new DecodeError('Collateral is not valid JSON', { cause: e });
    }
  }
  if (obj === null || typeof obj !== 'object') throw new DecodeError('Collateral must be a JSON object');
  const o = obj as Record<string, unknown>;
  for (const k of KEYS) {
    if (o[k] === undefined || o[k] === null) throw new CollateralMissingError(`Collateral field ${k} is missing`, { details: { field: k } });
  }
  const str = (k: string) => {
    if (typeof o[k] !== 'string') throw new DecodeError(`Collateral field ${k} must be a string`, { details: { field: k } });
    return o[k] as string;
  };
  return {
    pck_crl_issuer_chain: str('pck_crl_issuer_chain'),
    root_ca_crl: toHex(o.root_ca_crl, 'root_ca_crl'),
    pck_crl: toHex(o.pck_crl, 'pck_crl'),
    tcb_info_issuer_chain: str('tcb_info_issuer_chain'),
    tcb_info: str('tcb_info'),
    tcb_info_signature: toHex(o.tcb_info_signature, 'tcb_info_signature'),
    qe_identity_issuer_chain: str('qe_identity_issuer_chain'),
    qe_identity: str('qe_identity'),
    qe_identity_signature: toHex(o.qe_identity_signature, 'qe_identity_signature'),
  };
}

/**
 * Returns the exact source text of the value of top-level key `key` in JSON text `body`
 * (e.g. the `"tcbInfo"` object of a PCS "Get TCB Info" body), without re-serialising it.
 * @throws DecodeError if the key is not found or the value is unterminated.
 */
export function extractJsonValueText(body: string, key: string): string {
  const marker = `"${key}"`;
  let i = body.indexOf(marker);
  if (i < 0) throw new DecodeError(`PCS body has no "${key}"`, { details: { key } });
  i += marker.length;
  while (i < body.length && /\s/.test(body[i])) i++;
  if (body[i] !== ':') throw new DecodeError(`PCS body: ":" expected after "${key}"`);
  i++;
  while (i < body.length && /\s/.test(body[i])) i++;
  const start = i;
  let depth = 0;
  let inStr = false;
  for (; i < body.length; i++) {
    const c = body[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return body.slice(start, i + 1);
    }
  }
  throw new DecodeError(`PCS body: value of "${key}" is unterminated`);
}

/** Raw Intel PCS / PCCS responses, as fetched (see pcs.ts). */
export interface PcsBodies {
  /** Body of GET .../tcb?fmspc=..: `{"tcbInfo":{...},"signature":"hex"}`. */
  tcbInfoBody: string;
  /** Header `TCB-Info-Issuer-Chain` (URL-decoded PEM) of the same response. */
  tcbInfoIssuerChain: string;
  /** Body of GET .../qe/identity (or /tdx/.../qe/identity): `{"enclaveIdentity":{...},"signature":"hex"}`. */
  qeIdentityBody: string;
  /** Header `SGX-Enclave-Identity-Issuer-Chain` (URL-decoded PEM). */
  qeIdentityIssuerChain: string;
  /** PCK CRL, DER bytes or PEM text (GET .../pckcrl?ca=processor|platform&encoding=der). */
  pckCrl: Uint8Array | string;
  /** Header `SGX-PCK-CRL-Issuer-Chain` (URL-decoded PEM). */
  pckCrlIssuerChain: string;
  /** Root CA CRL, DER bytes or PEM text (IntelSGXRootCA.der CRL). */
  rootCaCrl: Uint8Array | string;
}

function crlToHex(v: Uint8Array | string, field: string): string {
  if (typeof v === 'string') {
    const m = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(v);
    if (m) return Buffer.from(m[1].replace(/\s+/g, ''), 'base64').toString('hex');
    return toHex(v.trim(), field);
  }
  return toHex(v, field);
}

/**
 * Builds a {@link QuoteCollateral} from raw PCS response bodies, keeping the exact signed JSON text.
 * @throws DecodeError if a body is malformed.
 */
export function collateralFromPcsBodies(b: PcsBodies): QuoteCollateral {
  const sig = (body: string) => {
    const m = /"signature"\s*:\s*"([0-9a-fA-F]+)"/.exec(body);
    if (!m) throw new DecodeError('PCS body has no "signature"');
    return m[1].toLowerCase();
  };
  return {
    pck_crl_issuer_chain: b.pckCrlIssuerChain,
    root_ca_crl: crlToHex(b.rootCaCrl, 'rootCaCrl'),
    pck_crl: crlToHex(b.pckCrl, 'pckCrl'),
    tcb_info_issuer_chain: b.tcbInfoIssuerChain,
    tcb_info: extractJsonValueText(b.tcbInfoBody, 'tcbInfo'),
    tcb_info_signature: sig(b.tcbInfoBody),
    qe_identity_issuer_chain: b.qeIdentityIssuerChain,
    qe_identity: extractJsonValueText(b.qeIdentityBody, 'enclaveIdentity'),
    qe_identity_signature: sig(b.qeIdentityBody),
  };
}

// ---------------------------------------------------------------------------------------------
// Parsed TCB Info (PCS API v4 "TCB Info V2/V3") and QE Identity ("Enclave Identity V2").

const STATUSES = [
  'UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded',
  'OutOfDate', 'OutOfDateConfigurationNeeded', 'Revoked',
] as const;
const hexN = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`));
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'ISO-8601 date');
const svn = z.number().int().min(0).max(0xffff);
const component = z.object({ svn: z.number().int().min(0).max(255) }).passthrough();

const tcbLevelSchema = z.object({
  tcb: z.record(z.string(), z.unknown()),
  tcbDate: isoDate.optional(),
  tcbStatus: z.enum(STATUSES),
  advisoryIDs: z.array(z.string()).optional(),
});
const moduleIdentitySchema = z.object({
  id: z.string(),
  mrsigner: hexN(48),
  attributes: hexN(8),
  attributesMask: hexN(8),
  tcbLevels: z.array(z.object({ tcb: z.object({ isvsvn: svn }), tcbStatus: z.enum(STATUSES), advisoryIDs: z.array(z.string()).optional() })),
});
const tcbInfoSchema = z.object({
  id: z.enum(['SGX', 'TDX']).optional(),
  version: z.number().int(),
  issueDate: isoDate,
  nextUpdate: isoDate,
  fmspc: hexN(6),
  pceId: hexN(2),
  tcbType: z.number().int().optional(),
  tcbEvaluationDataNumber: z.number().int().optional(),
  tdxModule: z.object({ mrsigner: hexN(48), attributes: hexN(8), attributesMask: hexN(8) }).optional(),
  tdxModuleIdentities: z.array(moduleIdentitySchema).optional(),
  tcbLevels: z.array(tcbLevelSchema).min(1),
});
const qeIdentitySchema = z.object({
  id: z.enum(['QE', 'QVE', 'TD_QE']),
  version: z.number().int(),
  issueDate: isoDate,
  nextUpdate: isoDate,
  tcbEvaluationDataNumber: z.number().int().optional(),
  miscselect: hexN(4),
  miscselectMask: hexN(4),
  attributes: hexN(16),
  attributesMask: hexN(16),
  mrsigner: hexN(32),
  isvprodid: svn,
  tcbLevels: z.array(z.object({ tcb: z.object({ isvsvn: svn }), tcbStatus: z.enum(STATUSES), advisoryIDs: z.array(z.string()).optional() })).min(1),
});

/** One platform TCB level with components flattened (v2 `sgxtcbcompNNsvn` and v3 arrays both supported). */
export interface TcbLevel {
  sgxComponents: number[]; // 16
  pceSvn: number;
  /** TDX only (v3): 16 TEE TCB SVN components. */
  tdxComponents?: number[];
  status: Exclude<TcbStatus, 'Verified'>;
  advisoryIds: string[];
  tcbDate?: string;
}

/** TDX module identity (TCB Info v3 `tdxModuleIdentities[]`). */
export interface TdxModuleIdentity {
  id: string;
  mrSigner: Uint8Array; // 48
  attributes: Uint8Array; // 8
  attributesMask: Uint8Array; // 8
  tcbLevels: { isvSvn: number; status: Exclude<TcbStatus, 'Verified'>; advisoryIds: string[] }[];
}

/** Parsed TCB Info (Intel PCS API v4, TCB Info V2 (SGX) / V3 (SGX, TDX)). Dates in unix seconds. */
export interface TcbInfo {
  id: 'SGX' | 'TDX';
  version: number;
  issueDate: number;
  nextUpdate: number;
  fmspc: string; // lowercase hex
  pceId: string; // lowercase hex
  tcbEvaluationDataNumber?: number;
  tdxModule?: { mrSigner: Uint8Array; attributes: Uint8Array; attributesMask: Uint8Array };
  tdxModuleIdentities?: TdxModuleIdentity[];
  tcbLevels: TcbLevel[];
}

/** Parsed QE Identity (Intel PCS API v4 "Enclave Identity V2"). */
export interface QeIdentity {
  id: 'QE' | 'QVE' | 'TD_QE';
  version: number;
  issueDate: number;
  nextUpdate: number;
  miscselect: number;
  miscselectMask: number;
  attributes: Uint8Array; // 16
  attributesMask: Uint8Array; // 16
  mrSigner: Uint8Array; // 32
  isvProdId: number;
  tcbLevels: { isvSvn: number; status: Exclude<TcbStatus, 'Verified'>; advisoryIds: string[] }[];
}

const hexBytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const u32le = (h: string) => Buffer.from(h, 'hex').readUInt32LE(0);

function schemaError(what: string, e: unknown): never {
  const issues = (e as { issues?: unknown }).issues;
  throw new CollateralSignatureError(`${what} is malformed: fix or re-fetch the collateral`, { details: { issues: JSON.parse(JSON.stringify(issues ?? String(e))) }, cause: e });
}

/**
 * Parses the signed `tcb_info` JSON text (PCS API v4 TCB Info, versions 2 and 3).
 * @throws CollateralSignatureError when the JSON or its shape is invalid.
 */
export function parseTcbInfo(text: string): TcbInfo {
  let raw: z.infer<typeof tcbInfoSchema>;
  try {
    raw = tcbInfoSchema.parse(JSON.parse(text));
  } catch (e) {
    schemaError('TCB Info', e);
  }
  const id = raw.id ?? 'SGX';
  const tcbLevels: TcbLevel[] = raw.tcbLevels.map((l, idx) => {
    const t = l.tcb as Record<string, unknown>;
    let sgx: number[];
    let tdx: number[] | undefined;
    const num = (v: unknown, f: string) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) schemaError('TCB Info', new Error(`tcbLevels[${idx}].${f} is not an SVN`));
      return v as number;
    };
    if (Array.isArray(t.sgxtcbcomponents)) {
      sgx = (t.sgxtcbcomponents as unknown[]).map((c, i) => component.parse(c) && num((c as { svn: unknown }).svn, `sgxtcbcomponents[${i}]`));
      if (Array.isArray(t.tdxtcbcomponents)) tdx = (t.tdxtcbcomponents as unknown[]).map((c, i) => num((c as { svn?: unknown })?.svn, `tdxtcbcomponents[${i}]`));
    } else {
      sgx = [];
      for (let i = 1; i <= 16; i++) sgx.push(num(t[`sgxtcbcomp${String(i).padStart(2, '0')}svn`], `sgxtcbcomp${i}svn`));
    }
    if (sgx.length !== 16) schemaError('TCB Info', new Error(`tcbLevels[${idx}] must have 16 SGX components`));
    if (tdx && tdx.length !== 16) schemaError('TCB Info', new Error(`tcbLevels[${idx}] must have 16 TDX components`));
    return { sgxComponents: sgx, pceSvn: num(t.pcesvn, 'pcesvn'), tdxComponents: tdx, status: l.tcbStatus, advisoryIds: l.advisoryIDs ?? [], tcbDate: l.tcbDate };
  });
  return {
    id,
    version: raw.version,
    issueDate: Date.parse(raw.issueDate) / 1000,
    nextUpdate: Date.parse(raw.nextUpdate) / 1000,
    fmspc: raw.fmspc.toLowerCase(),
    pceId: raw.pceId.toLowerCase(),
    tcbEvaluationDataNumber: raw.tcbEvaluationDataNumber,
    tdxModule: raw.tdxModule && { mrSigner: hexBytes(raw.tdxModule.mrsigner), attributes: hexBytes(raw.tdxModule.attributes), attributesMask: hexBytes(raw.tdxModule.attributesMask) },
    tdxModuleIdentities: raw.tdxModuleIdentities?.map((m) => ({
      id: m.id,
      mrSigner: hexBytes(m.mrsigner),
      attributes: hexBytes(m.attributes),
      attributesMask: hexBytes(m.attributesMask),
      tcbLevels: m.tcbLevels.map((l) => ({ isvSvn: l.tcb.isvsvn, status: l.tcbStatus, advisoryIds: l.advisoryIDs ?? [] })),
    })),
    tcbLevels,
  };
}

/**
 * Parses the signed `qe_identity` JSON text (PCS API v4 Enclave Identity V2).
 * @throws CollateralSignatureError when the JSON or its shape is invalid.
 */
export function parseQeIdentity(text: string): QeIdentity {
  let raw: z.infer<typeof qeIdentitySchema>;
  try {
    raw = qeIdentitySchema.parse(JSON.parse(text));
  } catch (e) {
    schemaError('QE Identity', e);
  }
  return {
    id: raw.id,
    version: raw.version,
    issueDate: Date.parse(raw.issueDate) / 1000,
    nextUpdate: Date.parse(raw.nextUpdate) / 1000,
    miscselect: u32le(raw.miscselect),
    miscselectMask: u32le(raw.miscselectMask),
    attributes: hexBytes(raw.attributes),
    attributesMask: hexBytes(raw.attributesMask),
    mrSigner: hexBytes(raw.mrsigner),
    isvProdId: raw.isvprodid,
    tcbLevels: raw.tcbLevels.map((l) => ({ isvSvn: l.tcb.isvsvn, status: l.tcbStatus, advisoryIds: l.advisoryIDs ?? [] })),
  };
}
