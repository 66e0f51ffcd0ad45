/**
 * TCB level selection and status convergence for DCAP (pure functions, no crypto).
 *
 * Rules followed:
 * - Platform TCB level (Intel PCS API v4 "TCB Info", section "TCB level matching"; Intel QVL
 *   `TcbLevelCheck.cpp`): the first level, in the order given by Intel (descending), such that
 *   every one of the 16 SGX TCB component SVNs of the PCK certificate is >= the level's, the PCK
 *   PCESVN is >= the level's pcesvn, and for TDX every TEE_TCB_SVN byte of the TD report is >= the
 *   level's tdxtcbcomponents SVN; when TEE_TCB_SVN[1] (TDX module major version) is > 0 the first
 *   two bytes are skipped there, because the module is then judged by its module identity.
 * - TDX module identity (Intel QVL `TdxModuleCheck.cpp`, TCB Info v3 `tdxModuleIdentities`): when
 *   TEE_TCB_SVN[1] > 0, the identity with id `TDX_<major as 2 hex digits>` must exist, MRSIGNERSEAM
 *   must equal its mrsigner and SEAMATTRIBUTES & attributesMask == attributes; its first TCB level
 *   with isvsvn <= TEE_TCB_SVN[0] gives the module status. When TEE_TCB_SVN[1] == 0 the legacy
 *   `tdxModule` identity is checked and no module status applies.
 * - QE identity (PCS API "Enclave Identity V2", QVL `EnclaveIdentityV2::getTcbStatus`): the first
 *   level with isvsvn <= QE report ISVSVN.
 * - Convergence (QVL `QuoteVerifier.cpp` convergeTcbStatusWithQeTcbStatus /
 *   convergeTcbStatusWithTdxModuleStatus): statuses are combined as flags
 *   {Revoked, OutOfDate, ConfigurationNeeded, SWHardeningNeeded}; the result is the worst.
 */
import type { TcbStatus } from '../types.ts';
import type { QeIdentity, TcbInfo, TcbLevel, TdxModuleIdentity } from './collateral.ts';
import { TcbLevelNotFoundError, TdxModuleMismatchError } from '../errors.ts';

export type IntelStatus = Exclude<TcbStatus, 'Verified'>;

interface Flags {
  revoked: boolean;
  outOfDate: boolean;
  config: boolean;
  sw: boolean;
}

function flags(s: IntelStatus): Flags {
  return {
    revoked: s === 'Revoked',
    outOfDate: s === 'OutOfDate' || s === 'OutOfDateConfigurationNeeded',
    config: s === 'ConfigurationNeeded' || s === 'ConfigurationAndSWHardeningNeeded' || s === 'OutOfDateConfigurationNeeded',
    sw: s === 'SWHardeningNeeded' || s === 'ConfigurationAndSWHardeningNeeded',
  };
}

/**
 * Combines TCB statuses into the worst one: Revoked > OutOfDate(+ConfigurationNeeded) >
 * ConfigurationAndSWHardeningNeeded > ConfigurationNeeded > SWHardeningNeeded > UpToDate.
 * OutOfDate absorbs SWHardeningNeeded (as Intel's QVL does).
 */
export function convergeStatus(...statuses: IntelStatus[]): IntelStatus {
  const f = statuses.map(flags).reduce((a, b) => ({ revoked: a.revoked || b.revoked, outOfDate: a.outOfDate || b.outOfDate, config: a.config || b.config, sw: a.sw || b.sw }), {
    revoked: false,
    outOfDate: false,
    config: false,
    sw: false,
  });
  if (f.revoked) return 'Revoked';
  if (f.outOfDate) return f.config ? 'OutOfDateConfigurationNeeded' : 'OutOfDate';
  if (f.config) return f.sw ? 'ConfigurationAndSWHardeningNeeded' : 'ConfigurationNeeded';
  return f.sw ? 'SWHardeningNeeded' : 'UpToDate';
}

/** A selected TCB level: status and advisories. */
export interface TcbMatch {
  status: IntelStatus;
  advisoryIds: string[];
  /** Index in the collateral's list (for reports). */
  index: number;
}

/**
 * Selects the platform TCB level.
 * @param teeTcbSvn TDX only: TEE_TCB_SVN (16 bytes) of the TD report.
 * @throws TcbLevelNotFoundError when no level matches (the platform is below every listed level).
 */
export function matchPlatformTcb(tcbInfo: TcbInfo, pck: { sgxComponents: number[]; pceSvn: number }, teeTcbSvn?: Uint8Array): TcbMatch {
  const tdxStart = teeTcbSvn && teeTcbSvn[1] > 0 ? 2 : 0;
  const levels: TcbLevel[] = tcbInfo.tcbLevels;
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i];
    if (pck.pceSvn < l.pceSvn) continue;
    let ok = true;
    for (let c = 0; c < 16 && ok; c++) if (pck.sgxComponents[c] < l.sgxComponents[c]) ok = false;
    if (!ok) continue;
    if (teeTcbSvn) {
      if (!l.tdxComponents) continue;
      for (let c = tdxStart; c < 16 && ok; c++) if (teeTcbSvn[c] < l.tdxComponents[c]) ok = false;
      if (!ok) continue;
    }
    return { status: l.status, advisoryIds: l.advisoryIds, index: i };
  }
  throw new TcbLevelNotFoundError('No TCB level of the TCB Info matches this platform: its TCB is below every level Intel lists (update microcode/BIOS/TDX module, or the collateral is for another platform)', {
    details: {
      fmspc: tcbInfo.fmspc,
      pckSgxComponents: pck.sgxComponents,
      pckPceSvn: pck.pceSvn,
      teeTcbSvn: teeTcbSvn ? Buffer.from(teeTcbSvn).toString('hex') : undefined,
    },
  });
}

/**
 * Selects the QE TCB level from the QE Identity.
 * @returns null when the QE ISVSVN is below every level (the caller raises the error).
 */
export function matchQeTcb(qeIdentity: QeIdentity, isvSvn: number): TcbMatch | null {
  for (let i = 0; i < qeIdentity.tcbLevels.length; i++) {
    const l = qeIdentity.tcbLevels[i];
    if (isvSvn >= l.isvSvn) return { status: l.status, advisoryIds: l.advisoryIds, index: i };
  }
  return null;
}

function maskedEq(actual: Uint8Array, expected: Uint8Array, mask: Uint8Array): boolean {
  if (actual.length !== expected.length || mask.length !== expected.length) return false;
  for (let i = 0; i < actual.length; i++) if ((actual[i] & mask[i]) !== (expected[i] & mask[i])) return false;
  return true;
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * Checks the TDX module identity and selects its TCB level (TCB Info v3).
 * @returns the module's TCB match, or null when TEE_TCB_SVN[1] == 0 (no module status applies).
 * @throws TdxModuleMismatchError when the identity is missing or MRSIGNERSEAM/SEAMATTRIBUTES differ.
 * @throws TcbLevelNotFoundError when the module ISVSVN is below every level.
 */
export function matchTdxModule(tcbInfo: TcbInfo, report: { teeTcbSvn: Uint8Array; mrSignerSeam: Uint8Array; seamAttributes: Uint8Array }): TcbMatch | null {
  const major = report.teeTcbSvn[1];
  const isvSvn = report.teeTcbSvn[0];
  if (major === 0 || !tcbInfo.tdxModuleIdentities) {
    const m = tcbInfo.tdxModule;
    if (m && (!bytesEq(report.mrSignerSeam, m.mrSigner) || !maskedEq(report.seamAttributes, m.attributes, m.attributesMask))) {
      throw new TdxModuleMismatchError('The TDX module (MRSIGNERSEAM/SEAMATTRIBUTES) does not match the TCB Info tdxModule', {
        details: { mrSignerSeam: Buffer.from(report.mrSignerSeam).toString('hex') },
      });
    }
    if (major !== 0 && !tcbInfo.tdxModuleIdentities && tcbInfo.version >= 3) {
      // TCB Info v3 without module identities: nothing more to select (older PCS responses).
      return null;
    }
    return null;
  }
  const id = `TDX_${major.toString(16).padStart(2, '0').toUpperCase()}`;
  const ident: TdxModuleIdentity | undefined = tcbInfo.tdxModuleIdentities.find((x) => x.id.toUpperCase() === id);
  if (!ident) {
    throw new TdxModuleMismatchError(`The TCB Info lists no TDX module identity ${id}`, { details: { id, available: tcbInfo.tdxModuleIdentities.map((x) => x.id) } });
  }
  if (!bytesEq(report.mrSignerSeam, ident.mrSigner) || !maskedEq(report.seamAttributes, ident.attributes, ident.attributesMask)) {
    throw new TdxModuleMismatchError(`The TDX module does not match identity ${id} (MRSIGNERSEAM or SEAMATTRIBUTES)`, {
      details: { id, mrSignerSeam: Buffer.from(report.mrSignerSeam).toString('hex') },
    });
  }
  for (let i = 0; i < ident.tcbLevels.length; i++) {
    const l = ident.tcbLevels[i];
    if (isvSvn >= l.isvSvn) return { status: l.status, advisoryIds: l.advisoryIds, index: i };
  }
  throw new TcbLevelNotFoundError(`TDX module ${id} ISVSVN ${isvSvn} is below every level of its identity: update the TDX module`, { details: { id, isvSvn } });
}
