/**
 * Geode simulation SGX PKI: a self-contained stand-in for Intel's SGX provisioning PKI, used by the dev TEE
 * (`--tee sim`) so that simulated quotes go through the *same* DCAP verifier as real ones, with the simulation
 * root passed as the trust anchor.
 *
 * What it creates (all keys ECDSA P-256, all signatures ECDSA-with-SHA256), mirroring the Intel profiles in
 * "Intel SGX PCK Certificate and CRL Profile" (v1.5+):
 * - Root CA "Geode Simulation SGX Root CA" (self-signed, CA, pathLen 1). Clearly not Intel.
 * - PCK Processor CA "Geode Simulation SGX PCK Processor CA" (CA, pathLen 0), issued by the root.
 * - PCK leaf "Geode Simulation SGX PCK Certificate" with the SGX extension 1.2.840.113741.1.13.1
 *   (PPID, TCB = 16 component SVNs + PCESVN + CPUSVN, PCE-ID, FMSPC, SGX Type = Standard), issued by the PCK CA.
 * - TCB signing certificate "Geode Simulation SGX TCB Signing", issued by the root.
 * - Root CA CRL and PCK CRL (v2, empty, CRL number 1), valid [now, now + validityDays].
 * - TCB Info v3 (id "SGX") with one UpToDate level equal to the PCK certificate's TCB, and QE Identity v2
 *   (id "QE") matching the simulated QE report, both signed by the TCB signing key (ECDSA P-256/SHA-256 over the
 *   exact JSON bytes, raw r||s), as in Intel PCS API v4 ("Get TCB Info", "Get Quoting Enclave Identity").
 * - The simulated QE *attestation key* (P-256) whose public key (64-byte x||y) goes into every quote and is the
 *   key the on-chain simulation verifier is configured with.
 *
 * Determinism: with `seed`, every private key, serial number and signature is derived from it (keys:
 * `p256.utils.randomSecretKey(SHA-384(seed || label))`; signatures: RFC 6979 deterministic ECDSA from
 * @noble/curves), so the same `{ now, validityDays, seed }` gives byte-identical output. Without `seed` a random
 * 32-byte seed is drawn once.
 */
import { createHash, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import './reflect-shim.ts';
import type * as X509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { p256 } from '@noble/curves/nist.js';
import { SimInputError } from './errors.ts';


/** 0x-prefixed lowercase hex string. */
import type { QuoteCollateral } from '../dcap/collateral.ts';

export type Hex = `0x${string}`;

/**
 * Collateral for one quote, in the JSON shape of dcap-qvl's `QuoteCollateralV3` (Phala-Network/dcap-qvl
 * `src/lib.rs`): issuer chains are PEM strings (leaf first, then root); CRLs are DER as *unprefixed* lowercase
 * hex; `tcb_info` / `qe_identity` are the exact JSON strings that the signatures cover; signatures are raw
 * r||s (64 bytes) as unprefixed lowercase hex.
 */
/** The dcap-qvl collateral shape, as the DCAP verifier defines it. */
export type QuoteCollateralV3 = QuoteCollateral;

/**
 * JSON-serialisable content of a simulation PKI (what `JSON.stringify(pki)` produces and
 * {@link loadSimulationPki} accepts). Hex fields are 0x-prefixed lowercase; PEM strings use `\n` line ends.
 */
export interface SimulationPkiData {
  format: 'geode-sim-pki/1';
  /** Validity start of every certificate, CRL and collateral document (unix seconds). */
  notBefore: number;
  /** Validity end (unix seconds) = notBefore + validityDays * 86400. */
  notAfter: number;
  /** Certificates, PEM. */
  certs: { rootCa: string; pckCa: string; pckLeaf: string; tcbSigning: string };
  /** CRLs, DER as hex. */
  crls: { rootCa: Hex; pck: Hex };
  /** TCB Info v3 JSON (the exact signed bytes) and its raw r||s signature. */
  tcbInfo: string;
  tcbInfoSignature: Hex;
  /** QE Identity v2 JSON (the exact signed bytes) and its raw r||s signature. */
  qeIdentity: string;
  qeIdentitySignature: Hex;
  /** Private keys, PKCS#8 DER as hex (P-256). */
  keys: { rootCa: Hex; pckCa: Hex; pckLeaf: Hex; tcbSigning: Hex; attestation: Hex };
  /** Attestation public key, 64 bytes x||y (big-endian coordinates, no 0x04 prefix). */
  attestationPublicKey: Hex;
  /** Platform values carried in the PCK certificate's SGX extension. */
  platform: { ppid: Hex; cpuSvn: Hex; pceSvn: number; pceId: Hex; fmspc: Hex; sgxType: number };
  /** The simulated Quoting Enclave (its report goes into every quote). */
  qe: {
    mrEnclave: Hex;
    mrSigner: Hex;
    isvProdId: number;
    isvSvn: number;
    miscSelect: number;
    /** 16 bytes: flags u64 LE || xfrm u64 LE. */
    attributes: Hex;
    /** QE authentication data (bytes hashed into the QE report data). */
    authData: Hex;
  };
}

/**
 * A simulation PKI: the serialisable {@link SimulationPkiData} plus non-enumerable helpers (not serialised).
 */
export type SimulationPki = SimulationPkiData & {
  /** Root CA certificate, DER. Pass it as `rootCaDer` to `verifyDcapQuote`. */
  readonly rootCaDer: Uint8Array;
  /** Attestation public key as bytes, 64 bytes x||y. */
  readonly attestationPublicKeyBytes: Uint8Array;
  /** Collateral for quotes built with this PKI, dcap-qvl `QuoteCollateralV3` JSON shape (fresh object per call). */
  collateral(): QuoteCollateralV3;
};

/** Options of {@link createSimulationPki}. */
export interface CreateSimulationPkiOptions {
  /** Unix seconds; every validity window starts here. */
  now: number;
  /** Length of every validity window in days (certificates, CRLs, TCB Info, QE Identity). Default 365. */
  validityDays?: number;
  /** Seed (any length >= 16 bytes) for deterministic keys, serials and signatures. */
  seed?: Uint8Array;
}

/** Name suffix of every simulation certificate (mirrors Intel's O/L/ST/C layout, but not Intel). */
const NAME_TAIL = 'O=Geode Simulation (not Intel), L=Simulation, ST=CA, C=US';
export const SIM_ROOT_CA_CN = 'Geode Simulation SGX Root CA';
export const SIM_PCK_CA_CN = 'Geode Simulation SGX PCK Processor CA';
export const SIM_PCK_LEAF_CN = 'Geode Simulation SGX PCK Certificate';
export const SIM_TCB_SIGNING_CN = 'Geode Simulation SGX TCB Signing';
const CRL_BASE = 'https://geode.invalid/sim/sgx';

/** FMSPC of the simulated platform (6 bytes). */
export const SIM_FMSPC_HEX = '009090000000';
/** PCE-ID of the simulated platform. */
export const SIM_PCE_ID_HEX = '0000';
/** CPUSVN of the simulated platform = the 16 TCB component SVNs. */
export const SIM_CPU_SVN = Uint8Array.from([11, 11, 2, 2, 255, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
/** PCESVN of the simulated platform. */
export const SIM_PCE_SVN = 13;
/** Simulated QE identity values (ISVPRODID 1 and ATTRIBUTES as Intel's production QE; own MRSIGNER). */
export const SIM_QE_ISV_PROD_ID = 1;
export const SIM_QE_ISV_SVN = 8;
export const SIM_QE_ATTRIBUTES_HEX = '1500000000000000e700000000000000';

// SGX extension OIDs ("Intel SGX PCK Certificate and CRL Profile", section 1.5 "Intel SGX PCK Certificate").
const OID_SGX = '1.2.840.113741.1.13.1';
const OID_PPID = `${OID_SGX}.1`;
const OID_TCB = `${OID_SGX}.2`;
const OID_PCEID = `${OID_SGX}.3`;
const OID_FMSPC = `${OID_SGX}.4`;
const OID_SGX_TYPE = `${OID_SGX}.5`;
const OID_CRL_NUMBER = '2.5.29.20';

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const hex0x = (b: Uint8Array): Hex => `0x${toHex(b)}`;
const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array): Uint8Array => createHash('sha256').update(b).digest();
const iso = (unix: number): string => new Date(unix * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Derivation of labelled bytes from the seed (SHA-384(seed || 0x00 || label)). */
function derive(seed: Uint8Array, label: string, len = 48): Uint8Array {
  const out = createHash('sha384').update(seed).update(Uint8Array.of(0)).update(label).digest();
  return new Uint8Array(out.subarray(0, len));
}

interface KeyMaterial {
  d: Uint8Array;
  /** 64 bytes x||y. */
  xy: Uint8Array;
  pair: webcrypto.CryptoKeyPair;
  pkcs8: Uint8Array;
}

async function deriveKey(seed: Uint8Array, label: string, scalars: Map<webcrypto.CryptoKey, Uint8Array>): Promise<KeyMaterial> {
  const d = p256.utils.randomSecretKey(derive(seed, `key:${label}`, 48));
  const pub = p256.getPublicKey(d, false); // 0x04 || x || y
  const xy = pub.subarray(1);
  const jwk = { kty: 'EC', crv: 'P-256', d: b64u(d), x: b64u(xy.subarray(0, 32)), y: b64u(xy.subarray(32)) };
  const privateKey = await webcrypto.subtle.importKey('jwk', { ...jwk, ext: true }, ECDSA_P256, true, ['sign']);
  const { d: _d, ...pubJwk } = jwk;
  const publicKey = await webcrypto.subtle.importKey('jwk', { ...pubJwk, ext: true }, ECDSA_P256, true, ['verify']);
  scalars.set(privateKey as webcrypto.CryptoKey, d);
  const pkcs8 = new Uint8Array(createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'der' }));
  return { d, xy: new Uint8Array(xy), pair: { privateKey, publicKey } as webcrypto.CryptoKeyPair, pkcs8 };
}

/**
 * A WebCrypto provider that delegates to node's webcrypto but signs ECDSA with the deterministic RFC 6979
 * signer of @noble/curves when it knows the key's scalar, so certificate/CRL signatures are reproducible.
 */
function deterministicCrypto(scalars: Map<webcrypto.CryptoKey, Uint8Array>): webcrypto.Crypto {
  const subtle = webcrypto.subtle;
  const sign = async (alg: webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams, key: webcrypto.CryptoKey, data: webcrypto.BufferSource): Promise<ArrayBuffer> => {
    const d = scalars.get(key);
    const name = typeof alg === 'string' ? alg : alg.name;
    if (d && name.toUpperCase() === 'ECDSA') {
      const bytes = ArrayBuffer.isView(data)
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data as ArrayBuffer);
      const sig = p256.sign(sha256(bytes), d, { prehash: false }); // 64 bytes r||s (IEEE P1363), as WebCrypto returns
      return sig.slice().buffer as ArrayBuffer;
    }
    return subtle.sign(alg as webcrypto.AlgorithmIdentifier, key, data);
  };
  const proxy = new Proxy(subtle, {
    get(target, prop) {
      if (prop === 'sign') return sign;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return {
    subtle: proxy,
    getRandomValues: <T extends ArrayBufferView | null>(a: T) => webcrypto.getRandomValues(a as never) as T,
    randomUUID: () => webcrypto.randomUUID(),
  } as unknown as webcrypto.Crypto;
}

/** Serial number: 16 derived bytes, positive, no leading zero. */
function serial(seed: Uint8Array, label: string): string {
  const b = derive(seed, `serial:${label}`, 16);
  b[0] = (b[0]! & 0x3f) | 0x40;
  return toHex(b);
}

function der(node: asn1js.AsnType): Uint8Array {
  return new Uint8Array(node.toBER(false));
}

/**
 * DER of the SGX extension value (extnValue content) of a PCK *Processor* certificate:
 * `SEQUENCE { {PPID, OCTET STRING(16)}, {TCB, SEQUENCE { {comp01..16, INTEGER}, {PCESVN, INTEGER},
 * {CPUSVN, OCTET STRING(16)} }}, {PCE-ID, OCTET STRING(2)}, {FMSPC, OCTET STRING(6)}, {SGX Type, ENUMERATED} }`.
 */
function sgxExtensionDer(p: { ppid: Uint8Array; cpuSvn: Uint8Array; pceSvn: number; pceId: Uint8Array; fmspc: Uint8Array; sgxType: number }): Uint8Array {
  const pair = (oid: string, value: asn1js.AsnType) =>
    new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), value as never] });
  const tcb: asn1js.AsnType[] = [];
  for (let i = 0; i < 16; i++) tcb.push(pair(`${OID_TCB}.${i + 1}`, new asn1js.Integer({ value: p.cpuSvn[i]! })));
  tcb.push(pair(`${OID_TCB}.17`, new asn1js.Integer({ value: p.pceSvn })));
  tcb.push(pair(`${OID_TCB}.18`, new asn1js.OctetString({ valueHex: p.cpuSvn.slice().buffer })));
  const seq = new asn1js.Sequence({
    value: [
      pair(OID_PPID, new asn1js.OctetString({ valueHex: p.ppid.slice().buffer })),
      pair(OID_TCB, new asn1js.Sequence({ value: tcb as never[] })),
      pair(OID_PCEID, new asn1js.OctetString({ valueHex: p.pceId.slice().buffer })),
      pair(OID_FMSPC, new asn1js.OctetString({ valueHex: p.fmspc.slice().buffer })),
      pair(OID_SGX_TYPE, new asn1js.Enumerated({ value: p.sgxType })),
    ] as never[],
  });
  return der(seq);
}

/**
 * @peculiar/x509, loaded on first use, after the Reflect shim above has run: its tsyringe dependency throws at import
 * time without one, and a bundler (the CLI bundle) hoists a static import of an external package above inlined code
 * such as the shim.
 */
const loadX509 = (): Promise<typeof X509> => import('@peculiar/x509');

/** CRL number extension (2.5.29.20), INTEGER n. */
function crlNumberExtension(x509: typeof X509, n: number): X509.Extension {
  return new x509.Extension(OID_CRL_NUMBER, false, der(new asn1js.Integer({ value: n })));
}

function pem(cert: X509.X509Certificate): string {
  return cert.toString('pem').replace(/\r\n/g, '\n').trimEnd() + '\n';
}

function checkNow(now: unknown, validityDays: unknown): void {
  if (typeof now !== 'number' || !Number.isSafeInteger(now) || now < 0) {
    throw new SimInputError('createSimulationPki: `now` must be a non-negative integer of unix seconds', { details: { now: String(now) } });
  }
  if (typeof validityDays !== 'number' || !Number.isFinite(validityDays) || validityDays <= 0 || validityDays > 36500) {
    throw new SimInputError('createSimulationPki: `validityDays` must be a positive number of days (at most 36500)', {
      details: { validityDays: String(validityDays) },
    });
  }
}

/**
 * Creates a simulation SGX PKI and its collateral (see the module documentation for the contents).
 *
 * @param opts.now unix seconds; validity windows are `[now, now + validityDays * 86400]`.
 * @param opts.validityDays default 365.
 * @param opts.seed optional; when given the result is fully deterministic (keys, serials, signatures).
 * @returns a {@link SimulationPki}; `JSON.stringify` gives its {@link SimulationPkiData}, which
 *   {@link loadSimulationPki} restores.
 * @throws SimInputError (`ATTEST_SIM_INPUT`) for a bad `now`, `validityDays` or a seed shorter than 16 bytes.
 */
export async function createSimulationPki(opts: CreateSimulationPkiOptions): Promise<SimulationPki> {
  const now = opts.now;
  const validityDays = opts.validityDays ?? 365;
  checkNow(now, validityDays);
  if (opts.seed !== undefined && (!(opts.seed instanceof Uint8Array) || opts.seed.length < 16)) {
    throw new SimInputError('createSimulationPki: `seed` must be a Uint8Array of at least 16 bytes');
  }
  const seed = opts.seed ?? new Uint8Array(randomBytes(32));
  const notBeforeUnix = now;
  const notAfterUnix = now + Math.round(validityDays * 86400);
  const notBefore = new Date(notBeforeUnix * 1000);
  const notAfter = new Date(notAfterUnix * 1000);

  const x509 = await loadX509();
  const scalars = new Map<webcrypto.CryptoKey, Uint8Array>();
  const crypto = deterministicCrypto(scalars);
  const [root, pckCa, leaf, tcbSigning, attestation] = await Promise.all(
    ['root-ca', 'pck-ca', 'pck-leaf', 'tcb-signing', 'attestation'].map((l) => deriveKey(seed, l, scalars)),
  );

  const rootName = `CN=${SIM_ROOT_CA_CN}, ${NAME_TAIL}`;
  const pckCaName = `CN=${SIM_PCK_CA_CN}, ${NAME_TAIL}`;
  const leafName = `CN=${SIM_PCK_LEAF_CN}, ${NAME_TAIL}`;
  const tcbName = `CN=${SIM_TCB_SIGNING_CN}, ${NAME_TAIL}`;
  const rootCrlUrl = `${CRL_BASE}/GeodeSimSGXRootCA.der`;
  const pckCrlUrl = `${CRL_BASE}/pckcrl?ca=processor&encoding=der`;

  const aki = (k: KeyMaterial) => x509.AuthorityKeyIdentifierExtension.create(k.pair.publicKey, false, crypto);
  const ski = (k: KeyMaterial) => x509.SubjectKeyIdentifierExtension.create(k.pair.publicKey, false, crypto);
  const caUsage = new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true);
  const leafUsage = new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true);

  const rootCert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(seed, 'root-ca'),
      subject: rootName,
      issuer: rootName,
      notBefore,
      notAfter,
      publicKey: root.pair.publicKey,
      signingKey: root.pair.privateKey,
      signingAlgorithm: SIGN_ALG,
      extensions: [
        await aki(root),
        new x509.CRLDistributionPointsExtension([rootCrlUrl]),
        await ski(root),
        caUsage,
        new x509.BasicConstraintsExtension(true, 1, true),
      ],
    },
    crypto,
  );
  const pckCaCert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(seed, 'pck-ca'),
      subject: pckCaName,
      issuer: rootName,
      notBefore,
      notAfter,
      publicKey: pckCa.pair.publicKey,
      signingKey: root.pair.privateKey,
      signingAlgorithm: SIGN_ALG,
      extensions: [
        await aki(root),
        new x509.CRLDistributionPointsExtension([rootCrlUrl]),
        await ski(pckCa),
        caUsage,
        new x509.BasicConstraintsExtension(true, 0, true),
      ],
    },
    crypto,
  );
  const platform = {
    ppid: derive(seed, 'ppid', 16),
    cpuSvn: SIM_CPU_SVN.slice(),
    pceSvn: SIM_PCE_SVN,
    pceId: new Uint8Array(Buffer.from(SIM_PCE_ID_HEX, 'hex')),
    fmspc: new Uint8Array(Buffer.from(SIM_FMSPC_HEX, 'hex')),
    sgxType: 0, // Standard
  };
  const leafCert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(seed, 'pck-leaf'),
      subject: leafName,
      issuer: pckCaName,
      notBefore,
      notAfter,
      publicKey: leaf.pair.publicKey,
      signingKey: pckCa.pair.privateKey,
      signingAlgorithm: SIGN_ALG,
      extensions: [
        await aki(pckCa),
        new x509.CRLDistributionPointsExtension([pckCrlUrl]),
        await ski(leaf),
        leafUsage,
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.Extension(OID_SGX, false, sgxExtensionDer(platform)),
      ],
    },
    crypto,
  );
  const tcbCert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(seed, 'tcb-signing'),
      subject: tcbName,
      issuer: rootName,
      notBefore,
      notAfter,
      publicKey: tcbSigning.pair.publicKey,
      signingKey: root.pair.privateKey,
      signingAlgorithm: SIGN_ALG,
      extensions: [
        await aki(root),
        new x509.CRLDistributionPointsExtension([rootCrlUrl]),
        await ski(tcbSigning),
        leafUsage,
        new x509.BasicConstraintsExtension(false, undefined, true),
      ],
    },
    crypto,
  );

  const rootCrl = await x509.X509CrlGenerator.create(
    {
      issuer: rootName,
      thisUpdate: notBefore,
      nextUpdate: notAfter,
      signingAlgorithm: SIGN_ALG,
      signingKey: root.pair.privateKey,
      extensions: [crlNumberExtension(x509, 1), await aki(root)],
    },
    crypto,
  );
  const pckCrl = await x509.X509CrlGenerator.create(
    {
      issuer: pckCaName,
      thisUpdate: notBefore,
      nextUpdate: notAfter,
      signingAlgorithm: SIGN_ALG,
      signingKey: pckCa.pair.privateKey,
      extensions: [crlNumberExtension(x509, 1), await aki(pckCa)],
    },
    crypto,
  );

  // Simulated QE (values as Intel's production QE except MRSIGNER/MRENCLAVE, which are Geode's own).
  const qe = {
    mrEnclave: sha256(utf8('Geode Simulation Quoting Enclave: MRENCLAVE')),
    mrSigner: sha256(utf8('Geode Simulation Quoting Enclave: MRSIGNER')),
    isvProdId: SIM_QE_ISV_PROD_ID,
    isvSvn: SIM_QE_ISV_SVN,
    miscSelect: 0,
    attributes: new Uint8Array(Buffer.from(SIM_QE_ATTRIBUTES_HEX, 'hex')),
    authData: Uint8Array.from({ length: 32 }, (_, i) => i),
  };

  // Intel PCS v4 field order; tcbDate = issueDate. UpToDate levels carry no advisoryIDs (as Intel's).
  const tcbInfo = JSON.stringify({
    id: 'SGX',
    version: 3,
    issueDate: iso(notBeforeUnix),
    nextUpdate: iso(notAfterUnix),
    fmspc: SIM_FMSPC_HEX.toUpperCase(),
    pceId: SIM_PCE_ID_HEX.toUpperCase(),
    tcbType: 0,
    tcbEvaluationDataNumber: 1,
    tcbLevels: [
      {
        tcb: { sgxtcbcomponents: Array.from(platform.cpuSvn, (svn) => ({ svn })), pcesvn: platform.pceSvn },
        tcbDate: iso(notBeforeUnix),
        tcbStatus: 'UpToDate',
      },
    ],
  });
  const qeIdentity = JSON.stringify({
    id: 'QE',
    version: 2,
    issueDate: iso(notBeforeUnix),
    nextUpdate: iso(notAfterUnix),
    tcbEvaluationDataNumber: 1,
    miscselect: '00000000',
    miscselectMask: 'FFFFFFFF',
    attributes: '11000000000000000000000000000000',
    attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
    mrsigner: toHex(qe.mrSigner).toUpperCase(),
    isvprodid: qe.isvProdId,
    tcbLevels: [{ tcb: { isvsvn: qe.isvSvn }, tcbDate: iso(notBeforeUnix), tcbStatus: 'UpToDate' }],
  });
  const signJson = (s: string) => p256.sign(sha256(utf8(s)), tcbSigning.d, { prehash: false });

  const data: SimulationPkiData = {
    format: 'geode-sim-pki/1',
    notBefore: notBeforeUnix,
    notAfter: notAfterUnix,
    certs: { rootCa: pem(rootCert), pckCa: pem(pckCaCert), pckLeaf: pem(leafCert), tcbSigning: pem(tcbCert) },
    crls: { rootCa: hex0x(new Uint8Array(rootCrl.rawData)), pck: hex0x(new Uint8Array(pckCrl.rawData)) },
    tcbInfo,
    tcbInfoSignature: hex0x(signJson(tcbInfo)),
    qeIdentity,
    qeIdentitySignature: hex0x(signJson(qeIdentity)),
    keys: {
      rootCa: hex0x(root.pkcs8),
      pckCa: hex0x(pckCa.pkcs8),
      pckLeaf: hex0x(leaf.pkcs8),
      tcbSigning: hex0x(tcbSigning.pkcs8),
      attestation: hex0x(attestation.pkcs8),
    },
    attestationPublicKey: hex0x(attestation.xy),
    platform: {
      ppid: hex0x(platform.ppid),
      cpuSvn: hex0x(platform.cpuSvn),
      pceSvn: platform.pceSvn,
      pceId: hex0x(platform.pceId),
      fmspc: hex0x(platform.fmspc),
      sgxType: platform.sgxType,
    },
    qe: {
      mrEnclave: hex0x(qe.mrEnclave),
      mrSigner: hex0x(qe.mrSigner),
      isvProdId: qe.isvProdId,
      isvSvn: qe.isvSvn,
      miscSelect: qe.miscSelect,
      attributes: hex0x(qe.attributes),
      authData: hex0x(qe.authData),
    },
  };
  return attachHelpers(data);
}

const HEX_RE = /^0x(?:[0-9a-f]{2})*$/;

/** Decodes a 0x-prefixed hex field of the PKI data. @throws SimInputError */
export function simHexBytes(h: string, field = 'hex'): Uint8Array {
  if (typeof h !== 'string' || !HEX_RE.test(h)) {
    throw new SimInputError(`simulation PKI: field ${field} must be 0x-prefixed lowercase hex`, { details: { field } });
  }
  return new Uint8Array(Buffer.from(h.slice(2), 'hex'));
}

/** DER bytes of the first certificate of a PEM string. */
export function pemToDer(pemText: string): Uint8Array {
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pemText);
  if (!m) throw new SimInputError('simulation PKI: expected a PEM certificate');
  return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

function attachHelpers(data: SimulationPkiData): SimulationPki {
  const pki = data as SimulationPki;
  const rootCaDer = pemToDer(data.certs.rootCa);
  const attKey = simHexBytes(data.attestationPublicKey, 'attestationPublicKey');
  Object.defineProperty(pki, 'rootCaDer', { value: rootCaDer, enumerable: false });
  Object.defineProperty(pki, 'attestationPublicKeyBytes', { value: attKey, enumerable: false });
  Object.defineProperty(pki, 'collateral', { value: () => simulationCollateral(data), enumerable: false });
  return pki;
}

/**
 * Collateral of a simulation PKI in dcap-qvl `QuoteCollateralV3` JSON shape (see {@link QuoteCollateralV3}):
 * PCK CRL issuer chain = PCK CA || root; TCB Info and QE Identity issuer chains = TCB signing || root.
 */
export function simulationCollateral(data: SimulationPkiData): QuoteCollateralV3 {
  const unprefixed = (h: Hex) => h.slice(2);
  return {
    pck_crl_issuer_chain: data.certs.pckCa + data.certs.rootCa,
    root_ca_crl: unprefixed(data.crls.rootCa),
    pck_crl: unprefixed(data.crls.pck),
    tcb_info_issuer_chain: data.certs.tcbSigning + data.certs.rootCa,
    tcb_info: data.tcbInfo,
    tcb_info_signature: unprefixed(data.tcbInfoSignature),
    qe_identity_issuer_chain: data.certs.tcbSigning + data.certs.rootCa,
    qe_identity: data.qeIdentity,
    qe_identity_signature: unprefixed(data.qeIdentitySignature),
  };
}

/**
 * Restores a {@link SimulationPki} from its serialised form (`JSON.stringify(pki)` output, or the parsed object).
 * The data is used as is (no signature re-check); it is a dev/test trust anchor.
 * @throws SimInputError (`ATTEST_SIM_INPUT`) when the JSON is malformed or not `geode-sim-pki/1`.
 */
export function loadSimulationPki(json: string | SimulationPkiData): SimulationPki {
  let data: SimulationPkiData;
  try {
    data = typeof json === 'string' ? (JSON.parse(json) as SimulationPkiData) : { ...json };
  } catch (e) {
    throw new SimInputError('loadSimulationPki: not valid JSON', { cause: e });
  }
  if (!data || data.format !== 'geode-sim-pki/1' || !data.certs || !data.keys || !data.qe || !data.platform) {
    throw new SimInputError('loadSimulationPki: not a serialised Geode simulation PKI (format geode-sim-pki/1)');
  }
  const copy = JSON.parse(JSON.stringify(data)) as SimulationPkiData;
  return attachHelpers(copy);
}
