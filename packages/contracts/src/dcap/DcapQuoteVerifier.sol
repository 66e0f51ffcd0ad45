// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IAttestationVerifier} from "../IAttestationVerifier.sol";
import {DcapCollateralRegistry as Registry} from "./DcapCollateralRegistry.sol";
import {DcapQuote} from "./DcapQuote.sol";
import {PemChain} from "./PemChain.sol";
import {X509} from "./X509.sol";
import {P256} from "./P256.sol";
import {TcbCollateral as T} from "./TcbCollateral.sol";
import {TcbEvaluation as E} from "./TcbEvaluation.sol";

/// @title DcapQuoteVerifier
/// @notice Verifies Intel DCAP quotes on-chain (SGX v3, TDX v4/v5, certification data type 5 / 6-wrapping-5) against
///         collateral registered in a {DcapCollateralRegistry}, with the checks, in the order, of
///         packages/attestation/src/dcap/verify.ts:
///          1. parse (DcapQuote);
///          2. PCK chain to the pinned root (cached by keccak256 of the certification data after the first quote of a
///             platform), CA not revoked by the Root CA CRL, PCK leaf not revoked by its CA's PCK CRL, certificate
///             windows and CRL windows against block.timestamp;
///          3. QE report signature by the PCK key;  4. QE report data = SHA-256(attestation key || QE auth data) || 0^32;
///          5. quote signature by the attestation key;
///          6. TCB Info (SGX|TDX, FMSPC of the PCK) and QE Identity (QE|TD_QE): signer not revoked, windows;
///          7. QE identity (MRSIGNER, ISVPRODID, masked MISCSELECT/ATTRIBUTES, ISVSVN level);
///          8. PCE-ID;  9. platform TCB level and TDX module identity;  10. status = worst; Revoked refused.
///         {verify} returns the verdict; {verifyQuote} (IAttestationVerifier) also applies this deployment's policy:
///         debug enclaves refused, TCB status within `acceptedStatuses`, advisory IDs within `allowedAdvisoryIds`.
/// @dev Costs: a cached platform pays two P256VERIFY calls (steps 3 and 5), SHA-256 over the QE report and the signed
///      quote bytes, a keccak256 of the certification data, 7 storage reads for the PCK record, and two registry calls
///      (CRL state; TCB Info + QE Identity blobs read with EXTCODECOPY). A new platform also decodes the PEM chain and
///      verifies the PCK leaf (one more P256VERIFY; the CA once per CA via the registry).
contract DcapQuoteVerifier is IAttestationVerifier {
    /// @notice A verified platform's PCK certificate chain, cached by keccak256 of the quote's certification data.
    struct PckRecord {
        bytes32 keyX;
        bytes32 keyY;
        bytes32 caCertHash;
        bytes32 caSerialHash;
        bytes32 leafSerialHash;
        uint64 leafNotBefore;
        uint64 leafNotAfter;
        uint64 caNotBefore;
        uint64 caNotAfter;
        bytes16 sgxComponents;
        uint16 pceSvn;
        bytes2 pceId;
        bytes6 fmspc;
    }

    /// @notice The outcome of a verification. `status` uses TcbCollateral's codes (0 UpToDate .. 5
    ///         OutOfDateConfigurationNeeded); `measurement` is MRENCLAVE (SGX) or sha256(MRTD || RTMR0..3) (TDX);
    ///         `advisoryIds` are the union of the selected platform, QE and TDX module levels' IDs in collateral
    ///         order; `validFrom/validUntil` the intersection of every certificate, CRL and collateral window (unix s).
    struct Verdict {
        uint16 version;
        uint32 teeType;
        uint8 status;
        string[] advisoryIds;
        bytes6 fmspc;
        bytes2 pceId;
        bool debug;
        bytes32 measurement;
        bytes32 reportDataLo;
        bytes32 reportDataHi;
        uint64 validFrom;
        uint64 validUntil;
        bytes reportBody;
        bool pckCached;
    }

    uint8 internal constant W_PCK_LEAF = 0;
    uint8 internal constant W_PCK_CA = 1;
    uint8 internal constant W_ROOT = 2;
    uint8 internal constant W_ROOT_CRL = 3;
    uint8 internal constant W_PCK_CRL = 4;
    uint8 internal constant W_TCB_SIGNER = 5;
    uint8 internal constant W_QE_SIGNER = 6;
    uint8 internal constant W_TCB_INFO = 7;
    uint8 internal constant W_QE_IDENTITY = 8;

    /// @notice The collateral registry this verifier reads.
    Registry public immutable registry;
    /// @notice Bit `s` set: TCB status `s` is accepted by {verifyQuote} (the verdict of {verify} is not filtered).
    uint256 public immutable acceptedStatuses;
    /// @notice TDX policy of {verifyQuote}: bit 0 set allows a non-zero MRSERVICETD (a bound service TD), bit 1 set
    ///         allows TDATTRIBUTES.SEPT_VE_DISABLE (bit 28) unset. 0 = the strict default of packages/attestation's policy.
    uint256 public immutable tdxPolicy;
    /// @notice {tdxPolicy} bit: a non-zero MRSERVICETD is accepted.
    uint256 public constant ALLOW_SERVICE_TD = 1;
    /// @notice {tdxPolicy} bit: TDATTRIBUTES.SEPT_VE_DISABLE unset is accepted.
    uint256 public constant ALLOW_SEPT_VE = 2;
    /// @notice keccak256 of the advisory ID string that, listed in `allowedAdvisoryIds`, tolerates any advisory.
    bytes32 public constant ANY_ADVISORY = keccak256("*");
    /// @notice Whether {verifyQuote} tolerates every advisory ID (the constructor list held "*").
    bool public immutable anyAdvisory;
    /// @notice Advisory IDs {verifyQuote} tolerates, by keccak256 of the ID's ASCII bytes (e.g. "INTEL-SA-00837").
    mapping(bytes32 idHash => bool) public allowedAdvisory;
    /// @notice Verified PCK chains by keccak256 of the certification data.
    mapping(bytes32 => PckRecord) public pckCache;
    /// @notice PEM blocks (keccak256 of the base64 text) already decoded: a CA's keccak256(DER), or `rootHash`.
    mapping(bytes32 => bytes32) public knownPemBlocks;

    bytes32 private immutable rootX;
    bytes32 private immutable rootY;
    bytes32 private immutable rootSubject;
    uint64 private immutable rootNotBefore;
    uint64 private immutable rootNotAfter;
    bytes32 private immutable rootHash;

    /// @notice The PCK chain is malformed or does not chain to the pinned root (ATTEST_CHAIN_INVALID).
    error PckChainInvalid(uint8 reason);
    /// @notice A certificate is outside its validity window at block.timestamp (ATTEST_CERT_EXPIRED).
    error CertificateExpired(uint8 which, uint64 notBefore, uint64 notAfter);
    /// @notice A CRL or collateral item is outside its window at block.timestamp (ATTEST_COLLATERAL_EXPIRED).
    error CollateralExpired(uint8 which, uint64 notBefore, uint64 notAfter);
    /// @notice A certificate of the chain (`which`) is revoked (ATTEST_CERT_REVOKED).
    error CertificateRevoked(uint8 which);
    /// @notice Collateral `which` (W_ROOT_CRL, W_TCB_INFO, W_QE_IDENTITY) is not registered (ATTEST_COLLATERAL_MISSING).
    error CollateralNotRegistered(uint8 which);
    /// @notice No PCK CRL of the PCK certificate's issuing CA is registered (ATTEST_CRL_INVALID).
    error PckCrlNotRegistered(bytes32 caCertHash);
    /// @notice ATTEST_QE_REPORT_SIGNATURE.
    error QeReportSignatureInvalid();
    /// @notice ATTEST_QE_REPORT_DATA.
    error QeReportDataMismatch();
    /// @notice ATTEST_QUOTE_SIGNATURE.
    error QuoteSignatureInvalid();
    /// @notice The QE does not match the QE Identity; `field`: 0 version, 1 MRSIGNER, 2 ISVPRODID, 3 MISCSELECT,
    ///         4 ATTRIBUTES, 5 ISVSVN (ATTEST_QE_IDENTITY_MISMATCH).
    error QeIdentityMismatch(uint8 field);
    /// @notice ATTEST_PCEID_MISMATCH.
    error PceIdMismatch(bytes2 pck, bytes2 tcbInfo);
    /// @notice ATTEST_TCB_REVOKED.
    error TcbRevoked();
    /// @notice Policy of {verifyQuote}: the enclave runs in debug mode (POLICY_DEBUG).
    error DebugEnclaveRefused();
    /// @notice Policy of {verifyQuote}: TCB status not accepted by this deployment (POLICY_TCB_STATUS).
    error TcbStatusNotAccepted(uint8 status);
    /// @notice Policy of {verifyQuote}: the verdict carries an advisory ID this deployment does not tolerate
    ///         (POLICY_ADVISORY).
    error AdvisoryNotAllowed(string advisoryId);
    /// @notice Policy of {verifyQuote}: a TD 1.5 quote with a non-zero MRSERVICETD (POLICY_MR_SERVICETD).
    error ServiceTdNotAccepted();
    /// @notice Policy of {verifyQuote}: TDATTRIBUTES.SEPT_VE_DISABLE is not set (POLICY_TD_ATTRIBUTES).
    error SeptVeDisableRequired();

    /// @notice A platform's PCK chain was verified and cached.
    event PckCached(bytes32 indexed certDataHash, bytes6 fmspc, bytes32 caCertHash);

    /// @param registry_ Collateral registry (its root is this verifier's root).
    /// @param acceptedStatuses_ Bitmask of TCB statuses {verifyQuote} accepts (bit 0 UpToDate, 1 SWHardeningNeeded,
    ///        2 ConfigurationNeeded, 3 ConfigurationAndSWHardeningNeeded, 4 OutOfDate, 5 OutOfDateConfigurationNeeded).
    /// @param tdxPolicy_ {ALLOW_SERVICE_TD} | {ALLOW_SEPT_VE}, or 0 (strict).
    /// @param registry_ The collateral registry (its pinned root is this verifier's trust anchor).
    /// @param acceptedStatuses_ Bitmask of accepted TCB status codes (bit s = status s).
    /// @param tdxPolicy_ {ALLOW_SERVICE_TD} / {ALLOW_SEPT_VE} bits.
    /// @param allowedAdvisoryIds_ keccak256 of each tolerated advisory ID string; {ANY_ADVISORY} tolerates every one;
    ///        empty = no advisory tolerated (the strict default of packages/attestation's policy).
    constructor(Registry registry_, uint256 acceptedStatuses_, uint256 tdxPolicy_, bytes32[] memory allowedAdvisoryIds_) {
        registry = registry_;
        bool any;
        for (uint256 i; i < allowedAdvisoryIds_.length; ++i) {
            if (allowedAdvisoryIds_[i] == ANY_ADVISORY) any = true;
            allowedAdvisory[allowedAdvisoryIds_[i]] = true;
        }
        anyAdvisory = any;
        acceptedStatuses = acceptedStatuses_ & 0x3f;
        tdxPolicy = tdxPolicy_ & 3;
        Registry.CertRecord memory r = registry_.rootRecord();
        rootX = r.keyX;
        rootY = r.keyY;
        rootSubject = r.subjectHash;
        rootNotBefore = r.notBefore;
        rootNotAfter = r.notAfter;
        rootHash = registry_.rootHash();
    }

    /// @inheritdoc IAttestationVerifier
    /// @dev {verify}, then this deployment's policy, in the order of packages/attestation's evaluatePolicy: debug
    ///      refused, TCB status in {acceptedStatuses}, every advisory ID tolerated, and for TDX {tdxPolicy}. Returns `measurement` as `mrEnclave`.
    function verifyQuote(bytes calldata quote) external override returns (bytes32 mrEnclave, bytes32 reportDataLo, bytes32 reportDataHi) {
        Verdict memory v = verify(quote);
        if (v.debug) revert DebugEnclaveRefused();
        if ((acceptedStatuses >> v.status) & 1 == 0) revert TcbStatusNotAccepted(v.status);
        if (!anyAdvisory) {
            for (uint256 i; i < v.advisoryIds.length; ++i) {
                if (!allowedAdvisory[keccak256(bytes(v.advisoryIds[i]))]) revert AdvisoryNotAllowed(v.advisoryIds[i]);
            }
        }
        if (v.teeType == DcapQuote.TEE_TDX) {
            bytes memory body = v.reportBody;
            if (tdxPolicy & ALLOW_SEPT_VE == 0 && uint8(body[123]) & 0x10 == 0) revert SeptVeDisableRequired();
            if (tdxPolicy & ALLOW_SERVICE_TD == 0 && body.length == DcapQuote.TD15_LEN) {
                bytes32 a;
                bytes32 b;
                assembly ("memory-safe") {
                    a := mload(add(body, 632)) // body[600, 632)
                    b := mload(add(body, 648)) // body[616, 648)
                }
                if (a != bytes32(0) || b != bytes32(0)) revert ServiceTdNotAccepted();
            }
        }
        return (v.measurement, v.reportDataLo, v.reportDataHi);
    }

    /// @notice Verifies `quote` (steps 1-10 above) at block.timestamp and returns its verdict; caches the PCK chain.
    /// @dev Reverts with the error of the first failed check. State changes: only the PCK cache (and the registry's
    ///      certificate store, when the quote's PCK CA was not yet registered).
    function verify(bytes calldata quote) public returns (Verdict memory v) {
        // 1. Parse.
        DcapQuote.Layout memory l = DcapQuote.parse(quote);
        bool tdx = l.teeType == DcapQuote.TEE_TDX;
        if (!tdx && l.version != 3) revert DcapQuote.UnsupportedQuote(DcapQuote.FIELD_VERSION, l.version);
        if (l.certType != 5) revert DcapQuote.UnsupportedQuote(DcapQuote.FIELD_CERT_TYPE, l.certType);
        v.version = l.version;
        v.teeType = l.teeType;
        v.validUntil = type(uint64).max;

        // 2. PCK chain (cached) and CRLs.
        PckRecord memory pck = _pck(quote[l.certData:l.certData + l.certDataLen], v);
        _checkCrls(pck, v);
        // 3-5. QE report signature, QE report data, quote signature.
        _signatures(quote, l, pck);
        // 6-10. Signed collateral, QE identity, PCE-ID, TCB levels, convergence.
        _tcb(quote, l, pck, tdx, v);
        _body(quote, l, tdx, v);
    }

    function _pck(bytes calldata certData, Verdict memory v) private returns (PckRecord memory pck) {
        bytes32 h = keccak256(certData);
        pck = pckCache[h];
        if (pck.keyX == bytes32(0) && pck.keyY == bytes32(0)) {
            pck = _verifyPck(certData);
            pckCache[h] = pck;
            emit PckCached(h, pck.fmspc, pck.caCertHash);
        } else {
            v.pckCached = true;
        }
    }

    function _signatures(bytes calldata quote, DcapQuote.Layout memory l, PckRecord memory pck) private view {
        // 3. QE report signature.
        uint256 qe = l.qeReport;
        uint256 qs = l.qeReportSig;
        if (!P256.verify(sha256(quote[qe:qe + 384]), bytes32(quote[qs:qs + 32]), bytes32(quote[qs + 32:qs + 64]), pck.keyX, pck.keyY)) {
            revert QeReportSignatureInvalid();
        }
        // 4. QE report data binds the attestation key.
        uint256 ak = l.attKey;
        bytes32 bind = sha256(abi.encodePacked(quote[ak:ak + 64], quote[l.qeAuth:l.qeAuth + l.qeAuthLen]));
        if (bytes32(quote[qe + 320:qe + 352]) != bind || bytes32(quote[qe + 352:qe + 384]) != bytes32(0)) revert QeReportDataMismatch();
        // 5. Quote signature.
        uint256 sg = l.signature;
        if (!P256.verify(sha256(quote[0:l.signedEnd]), bytes32(quote[sg:sg + 32]), bytes32(quote[sg + 32:sg + 64]),
            bytes32(quote[ak:ak + 32]), bytes32(quote[ak + 32:ak + 64]))) revert QuoteSignatureInvalid();
    }

    function _tcb(bytes calldata quote, DcapQuote.Layout memory l, PckRecord memory pck, bool tdx, Verdict memory v) private view {
        // 6. TCB Info and QE Identity.
        (T.TcbInfo memory t, T.QeIdentity memory qi) = _signedCollateral(tdx, pck.fmspc, v);
        // 7. QE identity.
        E.Match[3] memory m;
        m[1] = _checkQe(quote, l.qeReport, qi);
        // 8. PCE-ID (the TCB Info was looked up by the PCK's FMSPC and the quote's TEE type).
        if (t.pceId != pck.pceId) revert PceIdMismatch(pck.pceId, t.pceId);
        // 9. TCB levels.
        uint256 b = l.bodyStart;
        bytes16 teeTcbSvn = tdx ? bytes16(quote[b:b + 16]) : bytes16(0);
        m[0] = E.platform(t, pck.sgxComponents, pck.pceSvn, teeTcbSvn, tdx);
        if (tdx) m[2] = E.tdxModule(t, teeTcbSvn, quote[b + 64:b + 112], bytes8(quote[b + 112:b + 120]));
        // 10. Converge.
        uint8[3] memory st = [m[0].status, m[1].status, m[2].status];
        v.status = E.converge(st, m[2].found ? 3 : 2);
        if (v.status == T.REVOKED) revert TcbRevoked();
        v.advisoryIds = _union(m);
        v.fmspc = pck.fmspc;
        v.pceId = pck.pceId;
    }

    function _body(bytes calldata quote, DcapQuote.Layout memory l, bool tdx, Verdict memory v) private pure {
        uint256 b = l.bodyStart;
        v.reportBody = quote[b:b + l.bodyLen];
        if (tdx) {
            v.debug = uint8(quote[b + 120]) & 1 != 0;
            v.measurement = sha256(abi.encodePacked(quote[b + 136:b + 184], quote[b + 328:b + 520]));
            v.reportDataLo = bytes32(quote[b + 520:b + 552]);
            v.reportDataHi = bytes32(quote[b + 552:b + 584]);
        } else {
            v.debug = uint8(quote[b + 48]) & 2 != 0;
            v.measurement = bytes32(quote[b + 64:b + 96]);
            v.reportDataLo = bytes32(quote[b + 320:b + 352]);
            v.reportDataHi = bytes32(quote[b + 352:b + 384]);
        }
    }

    // ------------------------------------------------------------------ step 2

    /// @dev Splits the PEM chain (leaf, CA, optional root), resolves the CA (registered with the registry, which
    ///      verifies it against the root, the first time its PEM block is seen) and the root (must be the pinned one),
    ///      then decodes and verifies the leaf under the CA. PEM blocks already decoded once are recognised by
    ///      keccak256 of their text, so a new platform under a known CA decodes only its leaf.
    function _verifyPck(bytes calldata certData) private returns (PckRecord memory r) {
        PemChain.Block[] memory bl = PemChain.blocks(certData, 3);
        if (bl.length < 2) revert PckChainInvalid(0);
        if (bl.length == 3) _checkRootBlock(certData[bl[2].start:bl[2].end], bl[2].start);
        bytes32 caHash = _caFromBlock(certData[bl[1].start:bl[1].end], bl[1].start);
        Registry.CertRecord memory ca = registry.cert(caHash);
        if (!ca.isCa) revert PckChainInvalid(2);
        bytes memory leafDer = PemChain.base64(certData[bl[0].start:bl[0].end], bl[0].start);
        X509.Cert memory leaf = X509.parseCert(leafDer);
        if (leaf.issuerHash != ca.subjectHash || !X509.signedBy(leafDer, leaf, ca.keyX, ca.keyY)) revert PckChainInvalid(3);
        X509.Pck memory ext = X509.pckExtension(leafDer, leaf);
        r = PckRecord(
            leaf.keyX, leaf.keyY, caHash, ca.serialHash, leaf.serialHash, leaf.notBefore, leaf.notAfter, ca.notBefore, ca.notAfter,
            ext.sgxComponents, ext.pceSvn, ext.pceId, ext.fmspc
        );
    }

    function _checkRootBlock(bytes calldata text, uint256 offset) private {
        bytes32 k = keccak256(text);
        if (knownPemBlocks[k] == rootHash) return;
        if (sha256(PemChain.base64(text, offset)) != rootHash) revert PckChainInvalid(1);
        knownPemBlocks[k] = rootHash;
    }

    function _caFromBlock(bytes calldata text, uint256 offset) private returns (bytes32 caHash) {
        bytes32 k = keccak256(text);
        caHash = knownPemBlocks[k];
        if (caHash != bytes32(0)) return caHash;
        bytes memory der = PemChain.base64(text, offset);
        caHash = keccak256(der);
        if (caHash == bytes32(0) || caHash == rootHash) revert PckChainInvalid(2);
        if (!registry.cert(caHash).registered) registry.registerCertificate(der);
        knownPemBlocks[k] = caHash;
    }

    /// @dev Revocation of CA and leaf, then windows in verify.ts order: PCK chain (leaf, CA, root), PCK CRL issuer
    ///      chain (CA, root), Root CA CRL, PCK CRL.
    function _checkCrls(PckRecord memory pck, Verdict memory v) private view {
        (Registry.CrlWindow memory rootCrl, Registry.CrlWindow memory pckCrl, bool caRevoked, bool leafRevoked) =
            registry.crlState(pck.caCertHash, pck.caSerialHash, pck.leafSerialHash);
        if (rootCrl.nextUpdate == 0) revert CollateralNotRegistered(W_ROOT_CRL);
        if (pckCrl.nextUpdate == 0) revert PckCrlNotRegistered(pck.caCertHash);
        if (caRevoked) revert CertificateRevoked(W_PCK_CA);
        if (leafRevoked) revert CertificateRevoked(W_PCK_LEAF);
        _window(pck.leafNotBefore, pck.leafNotAfter, W_PCK_LEAF, true, v);
        _window(pck.caNotBefore, pck.caNotAfter, W_PCK_CA, true, v);
        _window(rootNotBefore, rootNotAfter, W_ROOT, true, v);
        _window(rootCrl.thisUpdate, rootCrl.nextUpdate, W_ROOT_CRL, false, v);
        _window(pckCrl.thisUpdate, pckCrl.nextUpdate, W_PCK_CRL, false, v);
    }

    // ------------------------------------------------------------------ step 6

    function _signedCollateral(bool tdx, bytes6 fmspc, Verdict memory v) private view returns (T.TcbInfo memory t, T.QeIdentity memory qi) {
        uint8 id = tdx ? T.ID_TDX : T.ID_SGX;
        Registry.SignedCollateral memory c = registry.signedCollateral(id, fmspc, tdx ? T.QE_ID_TD_QE : T.QE_ID_QE);
        if (c.tcbInfo.length == 0) revert CollateralNotRegistered(W_TCB_INFO);
        if (c.qeIdentity.length == 0) revert CollateralNotRegistered(W_QE_IDENTITY);
        if (c.tcbSignerRevoked) revert CertificateRevoked(W_TCB_SIGNER);
        if (c.qeSignerRevoked) revert CertificateRevoked(W_QE_SIGNER);
        _window(c.tcbSigner.notBefore, c.tcbSigner.notAfter, W_TCB_SIGNER, true, v);
        _window(c.qeSigner.notBefore, c.qeSigner.notAfter, W_QE_SIGNER, true, v);
        t = abi.decode(c.tcbInfo, (T.TcbInfo));
        qi = abi.decode(c.qeIdentity, (T.QeIdentity));
        _window(t.issueDate, t.nextUpdate, W_TCB_INFO, false, v);
        _window(qi.issueDate, qi.nextUpdate, W_QE_IDENTITY, false, v);
    }

    // ------------------------------------------------------------------ step 7

    function _checkQe(bytes calldata quote, uint256 qe, T.QeIdentity memory qi) private pure returns (E.Match memory m) {
        if (qi.version != 2) revert QeIdentityMismatch(0);
        if (bytes32(quote[qe + 128:qe + 160]) != qi.mrSigner) revert QeIdentityMismatch(1);
        if (DcapQuote.u16(quote, qe + 256) != qi.isvProdId) revert QeIdentityMismatch(2);
        if (bytes4(quote[qe + 16:qe + 20]) & qi.miscselectMask != qi.miscselect & qi.miscselectMask) revert QeIdentityMismatch(3);
        if (bytes16(quote[qe + 48:qe + 64]) & qi.attributesMask != qi.attributes & qi.attributesMask) revert QeIdentityMismatch(4);
        m = E.qe(qi, uint16(DcapQuote.u16(quote, qe + 258)));
        if (!m.found) revert QeIdentityMismatch(5);
    }

    // ------------------------------------------------------------------ helpers

    function _window(uint64 notBefore, uint64 notAfter, uint8 which, bool cert, Verdict memory v) private view {
        if (block.timestamp < notBefore || block.timestamp > notAfter) {
            if (cert) revert CertificateExpired(which, notBefore, notAfter);
            revert CollateralExpired(which, notBefore, notAfter);
        }
        if (notBefore > v.validFrom) v.validFrom = notBefore;
        if (notAfter < v.validUntil) v.validUntil = notAfter;
    }

    /// @dev Union of the comma-joined advisory lists of the matches, first occurrence order.
    function _union(E.Match[3] memory m) private pure returns (string[] memory out) {
        uint256 total;
        for (uint256 i; i < 3; ++i) if (m[i].advisories.length != 0) total += _count(m[i].advisories);
        out = new string[](total);
        bytes32[] memory seen = new bytes32[](total);
        uint256 n;
        for (uint256 i; i < 3; ++i) {
            bytes memory a = m[i].advisories;
            uint256 s;
            for (uint256 k; k <= a.length; ++k) {
                if (k < a.length && a[k] != ",") continue;
                if (k > s) {
                    bytes memory id = new bytes(k - s);
                    for (uint256 x; x < k - s; ++x) id[x] = a[s + x];
                    bytes32 hh = keccak256(id);
                    bool dup;
                    for (uint256 y; y < n && !dup; ++y) dup = seen[y] == hh;
                    if (!dup) {
                        seen[n] = hh;
                        out[n++] = string(id);
                    }
                }
                s = k + 1;
            }
        }
        assembly ("memory-safe") {
            mstore(out, n)
        }
    }

    function _count(bytes memory a) private pure returns (uint256 c) {
        c = 1;
        for (uint256 i; i < a.length; ++i) if (a[i] == ",") ++c;
    }
}
