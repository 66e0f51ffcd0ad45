// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {TcbCollateral as T} from "./TcbCollateral.sol";

/// @title TcbEvaluation
/// @notice TCB level selection and status convergence, the same rules as packages/attestation/src/dcap/tcb.ts:
///         platform level (Intel PCS API v4 "TCB level matching", QVL TcbLevelCheck), TDX module identity (QVL
///         TdxModuleCheck), QE level (Enclave Identity v2) and convergence as flags (QVL convergeTcbStatus*).
library TcbEvaluation {
    /// @notice No TCB level matches the platform / QE / TDX module (ATTEST_TCB_LEVEL_NOT_FOUND).
    error TcbLevelNotFound(uint8 what);
    /// @notice The TDX module does not match the TCB Info's module identity (ATTEST_TDX_MODULE_MISMATCH).
    error TdxModuleMismatch(uint16 major);

    uint8 internal constant WHAT_PLATFORM = 0;
    uint8 internal constant WHAT_TDX_MODULE = 1;

    /// @notice Selected level: status and advisories (comma-joined); `found` false when no level applies.
    struct Match {
        bool found;
        uint8 status;
        bytes advisories;
    }

    /// @notice The first platform level (Intel's order) whose every SGX component, PCESVN and (TDX) TEE_TCB_SVN
    ///         byte is <= the platform's; TEE_TCB_SVN bytes 0, 1 are skipped when byte 1 (module major) > 0.
    /// @param teeTcbSvn 16 bytes of the TD report (TDX only). @param tdx whether the quote is TDX.
    function platform(T.TcbInfo memory t, bytes16 sgx, uint16 pceSvn, bytes16 teeTcbSvn, bool tdx)
        internal
        pure
        returns (Match memory m)
    {
        uint256 tdxStart = tdx && uint8(teeTcbSvn[1]) > 0 ? 2 : 0;
        for (uint256 i; i < t.levels.length; ++i) {
            T.TcbLevel memory l = t.levels[i];
            if (pceSvn < l.pceSvn || !_geq(sgx, l.sgx, 0)) continue;
            if (tdx && (!l.hasTdx || !_geq(teeTcbSvn, l.tdx, tdxStart))) continue;
            return Match(true, l.status, l.advisories);
        }
        revert TcbLevelNotFound(WHAT_PLATFORM);
    }

    /// @notice The QE level: the first with isvsvn <= the QE report's ISVSVN (`found` false when none).
    function qe(T.QeIdentity memory id, uint16 isvSvn) internal pure returns (Match memory m) {
        return _svn(id.levels, isvSvn);
    }

    /// @notice The TDX module check (TCB Info v3): legacy `tdxModule` when the module major is 0 or the TCB Info has
    ///         no identities, else identity TDX_<major> with MRSIGNERSEAM, masked SEAMATTRIBUTES and its level.
    function tdxModule(T.TcbInfo memory t, bytes16 teeTcbSvn, bytes memory mrSignerSeam, bytes8 seamAttributes)
        internal
        pure
        returns (Match memory m)
    {
        uint8 major = uint8(teeTcbSvn[1]);
        if (major == 0 || !t.hasModuleIdentities) {
            if (t.hasTdxModule && !_moduleMatches(t.tdxModule, mrSignerSeam, seamAttributes)) revert TdxModuleMismatch(major);
            return m;
        }
        for (uint256 i; i < t.moduleIdentities.length; ++i) {
            T.TdxModule memory id = t.moduleIdentities[i];
            if (id.major != major) continue;
            if (!_moduleMatches(id, mrSignerSeam, seamAttributes)) revert TdxModuleMismatch(major);
            m = _svn(id.levels, uint8(teeTcbSvn[0]));
            if (!m.found) revert TcbLevelNotFound(WHAT_TDX_MODULE);
            return m;
        }
        revert TdxModuleMismatch(major);
    }

    /// @notice Worst of the statuses as flags {Revoked, OutOfDate, ConfigurationNeeded, SWHardeningNeeded};
    ///         OutOfDate absorbs SWHardeningNeeded.
    function converge(uint8[3] memory s, uint256 n) internal pure returns (uint8) {
        bool revoked;
        bool outOfDate;
        bool config;
        bool sw;
        for (uint256 i; i < n; ++i) {
            uint8 x = s[i];
            revoked = revoked || x == T.REVOKED;
            outOfDate = outOfDate || x == T.OUT_OF_DATE || x == T.OUT_OF_DATE_CONFIGURATION_NEEDED;
            config = config || x == T.CONFIGURATION_NEEDED || x == T.CONFIGURATION_AND_SW_HARDENING_NEEDED
                || x == T.OUT_OF_DATE_CONFIGURATION_NEEDED;
            sw = sw || x == T.SW_HARDENING_NEEDED || x == T.CONFIGURATION_AND_SW_HARDENING_NEEDED;
        }
        if (revoked) return T.REVOKED;
        if (outOfDate) return config ? T.OUT_OF_DATE_CONFIGURATION_NEEDED : T.OUT_OF_DATE;
        if (config) return sw ? T.CONFIGURATION_AND_SW_HARDENING_NEEDED : T.CONFIGURATION_NEEDED;
        return sw ? T.SW_HARDENING_NEEDED : T.UP_TO_DATE;
    }

    function _svn(T.SvnLevel[] memory levels, uint16 isvSvn) private pure returns (Match memory m) {
        for (uint256 i; i < levels.length; ++i) {
            if (isvSvn >= levels[i].isvSvn) return Match(true, levels[i].status, levels[i].advisories);
        }
    }

    function _moduleMatches(T.TdxModule memory id, bytes memory mrSignerSeam, bytes8 seamAttributes) private pure returns (bool) {
        return keccak256(id.mrSigner) == keccak256(mrSignerSeam) && (seamAttributes & id.attributesMask) == (id.attributes & id.attributesMask);
    }

    /// @dev Every byte of `a` from `start` is >= the same byte of `b`.
    function _geq(bytes16 a, bytes16 b, uint256 start) private pure returns (bool) {
        for (uint256 i = start; i < 16; ++i) if (uint8(a[i]) < uint8(b[i])) return false;
        return true;
    }
}
