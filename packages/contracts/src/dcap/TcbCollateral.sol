// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IntelJson as J} from "./IntelJson.sol";
import {DerReader as D} from "./DerReader.sol";

/// @title TcbCollateral
/// @notice Compact forms of Intel's signed JSON collateral and their derivation from the exact signed bytes:
///         TCB Info v3 (Intel PCS API v4 "TCB Info", SGX and TDX, with `tdxModule` and `tdxModuleIdentities`) and
///         Enclave Identity v2 (QE / TD_QE). The same fields, in the same units, as packages/attestation's
///         `parseTcbInfo` / `parseQeIdentity`; unknown keys are skipped, required keys missing revert.
/// @dev TCB Info v2 (`sgxtcbcompNNsvn` keys) is refused: PCS API v4 serves v3 for SGX and TDX.
library TcbCollateral {
    /// @notice The signed JSON lacks a required field or has an unsupported value (`field` = keccak256 of its key).
    error CollateralFieldInvalid(bytes32 field);

    uint8 internal constant UP_TO_DATE = 0;
    uint8 internal constant SW_HARDENING_NEEDED = 1;
    uint8 internal constant CONFIGURATION_NEEDED = 2;
    uint8 internal constant CONFIGURATION_AND_SW_HARDENING_NEEDED = 3;
    uint8 internal constant OUT_OF_DATE = 4;
    uint8 internal constant OUT_OF_DATE_CONFIGURATION_NEEDED = 5;
    uint8 internal constant REVOKED = 6;

    uint8 internal constant ID_SGX = 0;
    uint8 internal constant ID_TDX = 1;
    uint8 internal constant QE_ID_QE = 0;
    uint8 internal constant QE_ID_TD_QE = 1;
    uint8 internal constant QE_ID_QVE = 2;

    uint256 internal constant MAX_LEVELS = 64;
    uint256 internal constant MAX_MODULES = 8;

    /// @notice A platform TCB level: SGX components (16 bytes), PCESVN, TDX components, status, advisory IDs joined
    ///         with ",".
    struct TcbLevel {
        bytes16 sgx;
        bytes16 tdx;
        bool hasTdx;
        uint16 pceSvn;
        uint8 status;
        bytes advisories;
    }

    /// @notice An ISVSVN-keyed level (QE Identity and TDX module identity levels).
    struct SvnLevel {
        uint16 isvSvn;
        uint8 status;
        bytes advisories;
    }

    /// @notice A TDX module identity; `major` is the XX of id `TDX_XX` (0x100 when the id is of another form).
    struct TdxModule {
        uint16 major;
        bytes mrSigner;
        bytes8 attributes;
        bytes8 attributesMask;
        SvnLevel[] levels;
    }

    /// @notice TCB Info (dates unix seconds; `fmspc`/`pceId` raw bytes).
    struct TcbInfo {
        uint8 id;
        uint32 version;
        uint64 issueDate;
        uint64 nextUpdate;
        bytes6 fmspc;
        bytes2 pceId;
        uint32 evaluationDataNumber;
        bool hasTdxModule;
        TdxModule tdxModule;
        bool hasModuleIdentities;
        TdxModule[] moduleIdentities;
        TcbLevel[] levels;
    }

    /// @notice Enclave Identity v2 of the QE (miscselect/attributes raw bytes as in the report).
    struct QeIdentity {
        uint8 id;
        uint32 version;
        uint64 issueDate;
        uint64 nextUpdate;
        bytes4 miscselect;
        bytes4 miscselectMask;
        bytes16 attributes;
        bytes16 attributesMask;
        bytes32 mrSigner;
        uint16 isvProdId;
        SvnLevel[] levels;
    }

    bytes32 private constant K_ID = keccak256("id");
    bytes32 private constant K_VERSION = keccak256("version");
    bytes32 private constant K_ISSUE = keccak256("issueDate");
    bytes32 private constant K_NEXT = keccak256("nextUpdate");
    bytes32 private constant K_FMSPC = keccak256("fmspc");
    bytes32 private constant K_PCEID = keccak256("pceId");
    bytes32 private constant K_EVAL = keccak256("tcbEvaluationDataNumber");
    bytes32 private constant K_TDX_MODULE = keccak256("tdxModule");
    bytes32 private constant K_TDX_IDS = keccak256("tdxModuleIdentities");
    bytes32 private constant K_LEVELS = keccak256("tcbLevels");
    bytes32 private constant K_TCB = keccak256("tcb");
    bytes32 private constant K_STATUS = keccak256("tcbStatus");
    bytes32 private constant K_ADVISORIES = keccak256("advisoryIDs");
    bytes32 private constant K_SGX_COMPS = keccak256("sgxtcbcomponents");
    bytes32 private constant K_TDX_COMPS = keccak256("tdxtcbcomponents");
    bytes32 private constant K_PCESVN = keccak256("pcesvn");
    bytes32 private constant K_SVN = keccak256("svn");
    bytes32 private constant K_ISVSVN = keccak256("isvsvn");
    bytes32 private constant K_MRSIGNER = keccak256("mrsigner");
    bytes32 private constant K_ATTRIBUTES = keccak256("attributes");
    bytes32 private constant K_ATTRIBUTES_MASK = keccak256("attributesMask");
    bytes32 private constant K_MISC = keccak256("miscselect");
    bytes32 private constant K_MISC_MASK = keccak256("miscselectMask");
    bytes32 private constant K_ISVPRODID = keccak256("isvprodid");

    // ------------------------------------------------------------------ TCB Info

    /// @notice Derives the compact TCB Info from the exact signed `tcbInfo` JSON text.
    function parseTcbInfo(bytes memory j) internal pure returns (TcbInfo memory t) {
        (bool more, uint256 p) = J.begin(j, 0, 0x7b);
        uint256 seen;
        while (more) {
            (bytes32 k, uint256 q) = J.key(j, p);
            if (k == K_ID) {
                uint256 s;
                uint256 e;
                (s, e, q) = J.str(j, q);
                if (D.eqShort(j, s, e, "SGX", 3)) t.id = ID_SGX;
                else if (D.eqShort(j, s, e, "TDX", 3)) t.id = ID_TDX;
                else revert CollateralFieldInvalid(K_ID);
            } else if (k == K_VERSION) {
                uint256 v;
                (v, q) = J.uint_(j, q);
                if (v != 3) revert CollateralFieldInvalid(K_VERSION);
                t.version = uint32(v);
                seen |= 1;
            } else if (k == K_ISSUE) {
                (t.issueDate, q) = J.date(j, q);
                seen |= 2;
            } else if (k == K_NEXT) {
                (t.nextUpdate, q) = J.date(j, q);
                seen |= 4;
            } else if (k == K_FMSPC) {
                bytes32 w;
                (w, q) = J.hexWord(j, q, 6);
                t.fmspc = bytes6(w);
                seen |= 8;
            } else if (k == K_PCEID) {
                bytes32 w;
                (w, q) = J.hexWord(j, q, 2);
                t.pceId = bytes2(w);
                seen |= 16;
            } else if (k == K_EVAL) {
                uint256 v;
                (v, q) = J.uint_(j, q);
                t.evaluationDataNumber = uint32(v);
            } else if (k == K_TDX_MODULE) {
                (t.tdxModule, q) = _module(j, q, false);
                t.hasTdxModule = true;
            } else if (k == K_TDX_IDS) {
                (t.moduleIdentities, q) = _modules(j, q);
                t.hasModuleIdentities = true;
            } else if (k == K_LEVELS) {
                (t.levels, q) = _tcbLevels(j, q);
                seen |= 32;
            } else {
                q = J.skip(j, q);
            }
            (more, p) = J.next(j, q, 0x7d);
        }
        if (J.ws(j, p) != j.length) revert J.JsonMalformed(p);
        if (seen != 63) revert CollateralFieldInvalid(K_LEVELS);
    }

    function _tcbLevels(bytes memory j, uint256 p) private pure returns (TcbLevel[] memory levels, uint256 q) {
        levels = new TcbLevel[](MAX_LEVELS);
        uint256 n;
        bool more;
        (more, q) = J.begin(j, p, 0x5b);
        while (more) {
            if (n == MAX_LEVELS) revert CollateralFieldInvalid(K_LEVELS);
            (levels[n++], q) = _tcbLevel(j, q);
            (more, q) = J.next(j, q, 0x5d);
        }
        if (n == 0) revert CollateralFieldInvalid(K_LEVELS);
        assembly ("memory-safe") {
            mstore(levels, n)
        }
    }

    function _tcbLevel(bytes memory j, uint256 p) private pure returns (TcbLevel memory l, uint256 q) {
        bool more;
        (more, q) = J.begin(j, p, 0x7b);
        uint256 seen;
        while (more) {
            bytes32 k;
            (k, q) = J.key(j, q);
            if (k == K_TCB) {
                q = _tcb(j, q, l);
                seen |= 1;
            } else if (k == K_STATUS) {
                (l.status, q) = _status(j, q);
                seen |= 2;
            } else if (k == K_ADVISORIES) {
                (l.advisories, q) = _advisories(j, q);
            } else {
                q = J.skip(j, q);
            }
            (more, q) = J.next(j, q, 0x7d);
        }
        if (seen != 3) revert CollateralFieldInvalid(K_TCB);
    }

    function _tcb(bytes memory j, uint256 p, TcbLevel memory l) private pure returns (uint256 q) {
        bool more;
        (more, q) = J.begin(j, p, 0x7b);
        uint256 seen;
        while (more) {
            bytes32 k;
            (k, q) = J.key(j, q);
            if (k == K_SGX_COMPS) {
                (l.sgx, q) = _components(j, q);
                seen |= 1;
            } else if (k == K_TDX_COMPS) {
                (l.tdx, q) = _components(j, q);
                l.hasTdx = true;
            } else if (k == K_PCESVN) {
                uint256 v;
                (v, q) = J.uint_(j, q);
                if (v > 0xffff) revert CollateralFieldInvalid(K_PCESVN);
                l.pceSvn = uint16(v);
                seen |= 2;
            } else {
                q = J.skip(j, q);
            }
            (more, q) = J.next(j, q, 0x7d);
        }
        if (seen != 3) revert CollateralFieldInvalid(K_SGX_COMPS);
    }

    /// @dev `[{"svn":N,...} x 16]` to 16 bytes.
    function _components(bytes memory j, uint256 p) private pure returns (bytes16 comps, uint256 q) {
        bool more;
        (more, q) = J.begin(j, p, 0x5b);
        uint256 n;
        uint256 acc;
        while (more) {
            bool m2;
            (m2, q) = J.begin(j, q, 0x7b);
            bool found;
            while (m2) {
                bytes32 k;
                (k, q) = J.key(j, q);
                if (k == K_SVN) {
                    uint256 v;
                    (v, q) = J.uint_(j, q);
                    if (v > 255 || n >= 16) revert CollateralFieldInvalid(K_SVN);
                    acc |= v << (8 * (15 - n));
                    found = true;
                } else {
                    q = J.skip(j, q);
                }
                (m2, q) = J.next(j, q, 0x7d);
            }
            if (!found) revert CollateralFieldInvalid(K_SVN);
            ++n;
            (more, q) = J.next(j, q, 0x5d);
        }
        if (n != 16) revert CollateralFieldInvalid(K_SVN);
        comps = bytes16(uint128(acc));
    }

    function _status(bytes memory j, uint256 p) private pure returns (uint8 s, uint256 q) {
        uint256 a;
        uint256 e;
        (a, e, q) = J.str(j, p);
        bytes32 h = D.keccakRange(j, a, e);
        if (h == keccak256("UpToDate")) return (UP_TO_DATE, q);
        if (h == keccak256("SWHardeningNeeded")) return (SW_HARDENING_NEEDED, q);
        if (h == keccak256("ConfigurationNeeded")) return (CONFIGURATION_NEEDED, q);
        if (h == keccak256("ConfigurationAndSWHardeningNeeded")) return (CONFIGURATION_AND_SW_HARDENING_NEEDED, q);
        if (h == keccak256("OutOfDate")) return (OUT_OF_DATE, q);
        if (h == keccak256("OutOfDateConfigurationNeeded")) return (OUT_OF_DATE_CONFIGURATION_NEEDED, q);
        if (h == keccak256("Revoked")) return (REVOKED, q);
        revert CollateralFieldInvalid(K_STATUS);
    }

    /// @dev `["A","B"]` to `A,B` (no ID may contain a comma).
    function _advisories(bytes memory j, uint256 p) private pure returns (bytes memory out, uint256 q) {
        bool more;
        (more, q) = J.begin(j, p, 0x5b);
        while (more) {
            uint256 s;
            uint256 e;
            (s, e, q) = J.str(j, q);
            bytes memory id = new bytes(e - s);
            for (uint256 i; i < e - s; ++i) {
                uint256 c = D.u8(j, s + i);
                if (c == 0x2c) revert CollateralFieldInvalid(K_ADVISORIES);
                id[i] = bytes1(uint8(c));
            }
            out = out.length == 0 ? id : abi.encodePacked(out, ",", id);
            (more, q) = J.next(j, q, 0x5d);
        }
    }

    function _modules(bytes memory j, uint256 p) private pure returns (TdxModule[] memory mods, uint256 q) {
        mods = new TdxModule[](MAX_MODULES);
        uint256 n;
        bool more;
        (more, q) = J.begin(j, p, 0x5b);
        while (more) {
            if (n == MAX_MODULES) revert CollateralFieldInvalid(K_TDX_IDS);
            (mods[n++], q) = _module(j, q, true);
            (more, q) = J.next(j, q, 0x5d);
        }
        assembly ("memory-safe") {
            mstore(mods, n)
        }
    }

    /// @dev A TDX module identity (`withLevels`: an element of tdxModuleIdentities) or the legacy tdxModule.
    function _module(bytes memory j, uint256 p, bool withLevels) private pure returns (TdxModule memory m, uint256 q) {
        bool more;
        (more, q) = J.begin(j, p, 0x7b);
        uint256 seen;
        m.major = 0x100;
        while (more) {
            bytes32 k;
            (k, q) = J.key(j, q);
            if (k == K_ID && withLevels) {
                uint256 s;
                uint256 e;
                (s, e, q) = J.str(j, q);
                m.major = _tdxMajor(j, s, e);
                seen |= 1;
            } else if (k == K_MRSIGNER) {
                (m.mrSigner, q) = J.hexBytes(j, q, 48);
                seen |= 2;
            } else if (k == K_ATTRIBUTES) {
                bytes32 w;
                (w, q) = J.hexWord(j, q, 8);
                m.attributes = bytes8(w);
                seen |= 4;
            } else if (k == K_ATTRIBUTES_MASK) {
                bytes32 w;
                (w, q) = J.hexWord(j, q, 8);
                m.attributesMask = bytes8(w);
                seen |= 8;
            } else if (k == K_LEVELS && withLevels) {
                (m.levels, q) = _svnLevels(j, q, false);
                seen |= 16;
            } else {
                q = J.skip(j, q);
            }
            (more, q) = J.next(j, q, 0x7d);
        }
        if (seen != (withLevels ? 31 : 14)) revert CollateralFieldInvalid(K_TDX_MODULE);
    }

    /// @dev "TDX_XX" (XX hex, either case) to XX; anything else to 0x100 (never matches a quote).
    function _tdxMajor(bytes memory j, uint256 s, uint256 e) private pure returns (uint16) {
        if (e - s != 6 || !D.eqShort(j, s, s + 4, "TDX_", 4)) return 0x100;
        uint256 hi = _hexNib(D.u8(j, s + 4));
        uint256 lo = _hexNib(D.u8(j, s + 5));
        if (hi > 15 || lo > 15) return 0x100;
        return uint16(hi * 16 + lo);
    }

    function _hexNib(uint256 c) private pure returns (uint256) {
        if (c >= 0x30 && c <= 0x39) return c - 0x30;
        if (c >= 0x61 && c <= 0x66) return c - 0x57;
        if (c >= 0x41 && c <= 0x46) return c - 0x37;
        return 16;
    }

    /// @dev `[{"tcb":{"isvsvn":N},"tcbStatus":..,"advisoryIDs":[..]}]`; `nonEmpty` requires one level at least.
    function _svnLevels(bytes memory j, uint256 p, bool nonEmpty) private pure returns (SvnLevel[] memory levels, uint256 q) {
        levels = new SvnLevel[](MAX_LEVELS);
        uint256 n;
        bool more;
        (more, q) = J.begin(j, p, 0x5b);
        while (more) {
            if (n == MAX_LEVELS) revert CollateralFieldInvalid(K_LEVELS);
            (levels[n++], q) = _svnLevel(j, q);
            (more, q) = J.next(j, q, 0x5d);
        }
        if (nonEmpty && n == 0) revert CollateralFieldInvalid(K_LEVELS);
        assembly ("memory-safe") {
            mstore(levels, n)
        }
    }

    function _svnLevel(bytes memory j, uint256 p) private pure returns (SvnLevel memory l, uint256 q) {
        bool more;
        (more, q) = J.begin(j, p, 0x7b);
        uint256 seen;
        while (more) {
            bytes32 k;
            (k, q) = J.key(j, q);
            if (k == K_TCB) {
                bool m2;
                (m2, q) = J.begin(j, q, 0x7b);
                while (m2) {
                    bytes32 k2;
                    (k2, q) = J.key(j, q);
                    if (k2 == K_ISVSVN) {
                        uint256 v;
                        (v, q) = J.uint_(j, q);
                        if (v > 0xffff) revert CollateralFieldInvalid(K_ISVSVN);
                        l.isvSvn = uint16(v);
                        seen |= 1;
                    } else {
                        q = J.skip(j, q);
                    }
                    (m2, q) = J.next(j, q, 0x7d);
                }
            } else if (k == K_STATUS) {
                (l.status, q) = _status(j, q);
                seen |= 2;
            } else if (k == K_ADVISORIES) {
                (l.advisories, q) = _advisories(j, q);
            } else {
                q = J.skip(j, q);
            }
            (more, q) = J.next(j, q, 0x7d);
        }
        if (seen != 3) revert CollateralFieldInvalid(K_ISVSVN);
    }

    // ------------------------------------------------------------------ QE Identity

    /// @notice Derives the compact QE Identity from the exact signed `enclaveIdentity` JSON text.
    function parseQeIdentity(bytes memory j) internal pure returns (QeIdentity memory t) {
        (bool more, uint256 p) = J.begin(j, 0, 0x7b);
        uint256 seen;
        while (more) {
            (bytes32 k, uint256 q) = J.key(j, p);
            if (k == K_ID) {
                uint256 s;
                uint256 e;
                (s, e, q) = J.str(j, q);
                if (D.eqShort(j, s, e, "QE", 2)) t.id = QE_ID_QE;
                else if (D.eqShort(j, s, e, "TD_QE", 5)) t.id = QE_ID_TD_QE;
                else if (D.eqShort(j, s, e, "QVE", 3)) t.id = QE_ID_QVE;
                else revert CollateralFieldInvalid(K_ID);
                seen |= 1;
            } else if (k == K_VERSION) {
                uint256 v;
                (v, q) = J.uint_(j, q);
                t.version = uint32(v);
                seen |= 2;
            } else if (k == K_ISSUE) {
                (t.issueDate, q) = J.date(j, q);
                seen |= 4;
            } else if (k == K_NEXT) {
                (t.nextUpdate, q) = J.date(j, q);
                seen |= 8;
            } else if (k == K_MISC) {
                bytes32 w;
                (w, q) = J.hexWord(j, q, 4);
                t.miscselect = bytes4(w);
                seen |= 16;
            } else if (k == K_MISC_MASK) {
                bytes32 w;
                (w, q) = J.hexWord(j, q, 4);
                t.miscselectMask = bytes4(w);
                seen |= 32;
            } else if (k == K_ATTRIBUTES) {
                bytes32 w;
                (w, q) = J.hexWord(j, q, 16);
                t.attributes = bytes16(w);
                seen |= 64;
            } else if (k == K_ATTRIBUTES_MASK) {
                bytes32 w;
                (w, q) = J.hexWord(j, q, 16);
                t.attributesMask = bytes16(w);
                seen |= 128;
            } else if (k == K_MRSIGNER) {
                (t.mrSigner, q) = J.hexWord(j, q, 32);
                seen |= 256;
            } else if (k == K_ISVPRODID) {
                uint256 v;
                (v, q) = J.uint_(j, q);
                if (v > 0xffff) revert CollateralFieldInvalid(K_ISVPRODID);
                t.isvProdId = uint16(v);
                seen |= 512;
            } else if (k == K_LEVELS) {
                (t.levels, q) = _svnLevels(j, q, true);
                seen |= 1024;
            } else {
                q = J.skip(j, q);
            }
            (more, p) = J.next(j, q, 0x7d);
        }
        if (J.ws(j, p) != j.length) revert J.JsonMalformed(p);
        if (seen != 2047) revert CollateralFieldInvalid(K_LEVELS);
    }
}
