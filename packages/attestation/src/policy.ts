/**
 * Relying-party policy, evaluated on a {@link Verdict} after cryptographic verification.
 *
 * Verification (dcap/, snp/, nitro/) answers "is this evidence authentic, and what is its TCB
 * status?"; the policy answers "do I accept it?". Defaults are strict: only UpToDate (DCAP) or
 * Verified (SNP/Nitro), no advisories, no debug, no simulation, MRSERVICETD zero, TDX
 * SEPT_VE_DISABLE set. Format documented in docs/attestation.md#policy.
 *
 * Hex values in a policy may be upper/lowercase, with or without 0x.
 * Errors: `PolicyError` subclasses (POLICY_*), and `PolicyInvalidError` for a malformed policy.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import YAML from 'yaml';
import {
  PolicyAdvisoryError,
  PolicyCollateralAgeError,
  PolicyDebugError,
  PolicyInvalidError,
  PolicyMeasurementError,
  PolicyMrServiceTdError,
  PolicyReportDataError,
  PolicySimulationError,
  PolicyTcbStatusError,
  PolicyTdAttributesError,
  PolicyTeeTypeError,
} from './errors.ts';
import type { TcbStatus, Verdict } from './types.ts';

const hex = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]*$/, 'hex string')
  .transform((s) => s.replace(/^0x/, '').toLowerCase());
const hexList = z.union([hex, z.array(hex)]).transform((v) => (Array.isArray(v) ? v : [v]));
const STATUSES = ['UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded', 'Revoked', 'Verified'] as const;

/** zod schema of a policy file. */
export const policySchema = z
  .object({
    /** Accepted TEE types; default all. */
    teeTypes: z.array(z.enum(['sgx', 'tdx', 'sev-snp', 'nitro'])).optional(),
    /** Accepted TCB statuses; default ["UpToDate", "Verified"]. */
    acceptedStatuses: z.array(z.enum(STATUSES)).optional(),
    /** Advisory IDs tolerated in the verdict; "*" tolerates any. Default none. */
    allowedAdvisoryIds: z.array(z.string()).optional(),
    /** Accept debug-mode TEEs. Default false. */
    allowDebug: z.boolean().optional(),
    /** Accept a non-zero TDX MRSERVICETD (a service TD is bound to this TD). Default false. */
    allowMrServiceTd: z.boolean().optional(),
    /** Accept evidence that chains to a simulation root. Default false. */
    allowSimulation: z.boolean().optional(),
    /** Maximum age of the collateral (now - oldest TCB Info/QE Identity issue date), seconds. */
    maxCollateralAgeSeconds: z.number().int().positive().optional(),
    /** Report data binding: `exact` (right-padded with zeros to the field length) or `prefix`. */
    reportData: z.object({ exact: hex.optional(), prefix: hex.optional() }).strict().optional(),
    sgx: z
      .object({
        mrEnclave: hexList.optional(),
        mrSigner: hexList.optional(),
        isvProdId: z.number().int().min(0).max(0xffff).optional(),
        minIsvSvn: z.number().int().min(0).max(0xffff).optional(),
      })
      .strict()
      .optional(),
    tdx: z
      .object({
        mrTd: hexList.optional(),
        /** Per RTMR index 0..3: accepted values (omit or null: any). */
        rtmrs: z.array(z.union([hexList, z.null()])).max(4).optional(),
        mrConfigId: hexList.optional(),
        mrOwner: hexList.optional(),
        mrOwnerConfig: hexList.optional(),
        /** Require TDATTRIBUTES.SEPT_VE_DISABLE (bit 28). Default true. */
        requireSeptVeDisable: z.boolean().optional(),
      })
      .strict()
      .optional(),
    snp: z.object({ measurement: hexList.optional(), hostData: hexList.optional(), maxVmpl: z.number().int().min(0).max(3).optional() }).strict().optional(),
    nitro: z.object({ pcrs: z.record(z.string().regex(/^\d+$/), hexList).optional() }).strict().optional(),
  })
  .strict();

/** A parsed policy (hex normalised to lowercase without 0x). */
export type Policy = z.output<typeof policySchema>;
/** A policy as written by a person (hex may carry 0x / uppercase). */
export type PolicyInput = z.input<typeof policySchema>;

/**
 * Validates a policy object.
 * @throws PolicyInvalidError with the schema issues in `details.issues`.
 */
export function parsePolicy(input: unknown): Policy {
  const r = policySchema.safeParse(input ?? {});
  if (!r.success) {
    throw new PolicyInvalidError(`Policy is invalid: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, {
      details: { issues: r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
    });
  }
  return r.data;
}

/**
 * Reads a policy file: JSON or YAML (YAML 1.2 is a superset of JSON, so both go through `yaml`).
 * @throws PolicyInvalidError when unreadable, unparsable or not matching the schema.
 */
export function loadPolicy(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PolicyInvalidError(`Cannot read policy file ${path}`, { cause: e, details: { path } });
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new PolicyInvalidError(`Policy file ${path} is neither JSON nor YAML: ${(e as Error).message}`, { cause: e, details: { path } });
  }
  return parsePolicy(doc);
}

function oneOf(name: string, actual: string | undefined, allowed: string[] | undefined): void {
  if (!allowed) return;
  if (actual === undefined || !allowed.includes(actual)) {
    throw new PolicyMeasurementError(`${name} ${actual ?? '(absent)'} is not one of the policy's accepted values`, { details: { measurement: name, actual, allowed } });
  }
}

/**
 * Applies `policy` to `verdict` at time `opts.now` (unix seconds). Returns nothing when accepted.
 *
 * Order: simulation, TEE type, debug, TCB status, advisories, collateral age, MRSERVICETD,
 * TDATTRIBUTES, measurements, report data.
 * @param policy a parsed {@link Policy} or a raw object (validated with {@link parsePolicy}).
 * @throws PolicySimulationError, PolicyTeeTypeError, PolicyDebugError, PolicyTcbStatusError,
 *   PolicyAdvisoryError, PolicyCollateralAgeError, PolicyMrServiceTdError, PolicyTdAttributesError,
 *   PolicyMeasurementError, PolicyReportDataError, PolicyInvalidError.
 */
export function evaluatePolicy(verdict: Verdict, policy: Policy | PolicyInput, opts: { now: number }): void {
  const p = parsePolicy(policy);
  const m = verdict.measurements;
  if (verdict.simulated && !p.allowSimulation) {
    throw new PolicySimulationError('The evidence chains to a simulation root, not a hardware vendor root: set allowSimulation only for development', {});
  }
  if (p.teeTypes && !p.teeTypes.includes(verdict.teeType)) {
    throw new PolicyTeeTypeError(`TEE type ${verdict.teeType} is not accepted (accepted: ${p.teeTypes.join(', ')})`, { details: { teeType: verdict.teeType } });
  }
  if (verdict.debug && !p.allowDebug) {
    throw new PolicyDebugError('The TEE runs in debug mode: its memory is readable by the host. Refused unless allowDebug is set', {});
  }
  const accepted: TcbStatus[] = p.acceptedStatuses ?? ['UpToDate', 'Verified'];
  if (!accepted.includes(verdict.status)) {
    throw new PolicyTcbStatusError(`TCB status ${verdict.status} is not accepted (accepted: ${accepted.join(', ')})`, {
      details: { status: verdict.status, accepted, advisoryIds: verdict.advisoryIds },
    });
  }
  const allowedAdv = p.allowedAdvisoryIds ?? [];
  if (!allowedAdv.includes('*')) {
    const bad = verdict.advisoryIds.filter((a) => !allowedAdv.includes(a));
    if (bad.length) throw new PolicyAdvisoryError(`Advisories not allowed by the policy: ${bad.join(', ')}`, { details: { advisoryIds: bad } });
  }
  if (p.maxCollateralAgeSeconds !== undefined) {
    if (!verdict.collateralIssuedAt) throw new PolicyCollateralAgeError('The verdict has no collateral issue date but the policy limits collateral age', {});
    const age = opts.now - Date.parse(verdict.collateralIssuedAt) / 1000;
    if (age > p.maxCollateralAgeSeconds) {
      throw new PolicyCollateralAgeError(`Collateral issued ${verdict.collateralIssuedAt} is ${Math.round(age)} s old (max ${p.maxCollateralAgeSeconds} s): fetch fresh collateral`, {
        details: { collateralIssuedAt: verdict.collateralIssuedAt, ageSeconds: age, max: p.maxCollateralAgeSeconds },
      });
    }
  }
  if (verdict.teeType === 'tdx') {
    if (m.mrServiceTd && /[^0]/.test(m.mrServiceTd) && !p.allowMrServiceTd) {
      throw new PolicyMrServiceTdError('MRSERVICETD is non-zero: a service TD (e.g. a migration TD) is bound to this TD. Refused unless allowMrServiceTd is set', {
        details: { mrServiceTd: m.mrServiceTd },
      });
    }
    if (p.tdx?.requireSeptVeDisable ?? true) {
      const attrs = m.tdAttributes ? Buffer.from(m.tdAttributes, 'hex') : undefined;
      if (!attrs || attrs.length !== 8 || (attrs[3] & 0x10) === 0) {
        throw new PolicyTdAttributesError('TDATTRIBUTES.SEPT_VE_DISABLE is not set: the TD can receive #VE on EPT violations. Refused unless tdx.requireSeptVeDisable is false', {
          details: { tdAttributes: m.tdAttributes },
        });
      }
    }
    oneOf('MRTD', m.mrTd, p.tdx?.mrTd);
    oneOf('MRCONFIGID', m.mrConfigId, p.tdx?.mrConfigId);
    oneOf('MROWNER', m.mrOwner, p.tdx?.mrOwner);
    oneOf('MROWNERCONFIG', m.mrOwnerConfig, p.tdx?.mrOwnerConfig);
    p.tdx?.rtmrs?.forEach((allowed, i) => oneOf(`RTMR${i}`, m.rtmrs?.[i], allowed ?? undefined));
  }
  if (verdict.teeType === 'sgx') {
    oneOf('MRENCLAVE', m.mrEnclave, p.sgx?.mrEnclave);
    oneOf('MRSIGNER', m.mrSigner, p.sgx?.mrSigner);
    if (p.sgx?.isvProdId !== undefined && m.isvProdId !== p.sgx.isvProdId) {
      throw new PolicyMeasurementError(`ISVPRODID ${m.isvProdId} differs from the policy's ${p.sgx.isvProdId}`, { details: { actual: m.isvProdId, expected: p.sgx.isvProdId } });
    }
    if (p.sgx?.minIsvSvn !== undefined && (m.isvSvn ?? -1) < p.sgx.minIsvSvn) {
      throw new PolicyMeasurementError(`ISVSVN ${m.isvSvn} is below the policy's minimum ${p.sgx.minIsvSvn}`, { details: { actual: m.isvSvn, min: p.sgx.minIsvSvn } });
    }
  }
  if (verdict.teeType === 'sev-snp') {
    oneOf('SNP measurement', m.measurement, p.snp?.measurement);
    oneOf('SNP host data', m.hostData, p.snp?.hostData);
    if (p.snp?.maxVmpl !== undefined && (m.vmpl ?? 99) > p.snp.maxVmpl) {
      throw new PolicyMeasurementError(`VMPL ${m.vmpl} is above the policy's maximum ${p.snp.maxVmpl}`, { details: { vmpl: m.vmpl } });
    }
  }
  if (verdict.teeType === 'nitro' && p.nitro?.pcrs) {
    for (const [idx, allowed] of Object.entries(p.nitro.pcrs)) oneOf(`PCR${idx}`, m.pcrs?.[Number(idx)], allowed);
  }
  if (p.reportData) {
    const rd = m.reportData ?? '';
    if (p.reportData.exact !== undefined && rd !== p.reportData.exact.padEnd(rd.length || p.reportData.exact.length, '0')) {
      throw new PolicyReportDataError('Report data differs from the expected value: the evidence is not bound to this session/key', {
        details: { expected: p.reportData.exact, actual: rd },
      });
    }
    if (p.reportData.prefix !== undefined && !rd.startsWith(p.reportData.prefix)) {
      throw new PolicyReportDataError('Report data does not start with the expected prefix: the evidence is not bound to this session/key', {
        details: { prefix: p.reportData.prefix, actual: rd },
      });
    }
  }
}
