// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {X509} from "./X509.sol";
import {P256} from "./P256.sol";
import {Blob} from "./Blob.sol";
import {TcbCollateral} from "./TcbCollateral.sol";

/// @title DcapCollateralRegistry
/// @notice On-chain store of Intel DCAP collateral, each item verified against the pinned root when registered and
///         kept in a compact parsed form: CA certificates issued by the root (PCK Platform/Processor CA, TCB Signing),
///         the Root CA CRL and PCK CRLs (revoked serials), TCB Info per (SGX|TDX, FMSPC) and QE Identity per id.
/// @dev Anyone may register: every item is signed by Intel (or, in tests, by the pinned test root), so a registrant
///      can only supply what the root signed. Replacement is monotonic (a newer `thisUpdate` / `issueDate` replaces,
///      an equal one is a no-op, an older one reverts {StaleCollateral}), so nobody can roll collateral back.
///      Revocation is sticky: a serial listed in any registered CRL of an issuer stays revoked (Intel never
///      un-revokes; a serial dropped from a later CRL belongs to an expired certificate).
///      Specs: RFC 5280 (certificates, CRLs), Intel PCS API v4 (TCB Info v3, Enclave Identity v2).
contract DcapCollateralRegistry {
    /// @notice A CA or signing certificate issued by the root.
    struct CertRecord {
        bytes32 keyX;
        bytes32 keyY;
        bytes32 subjectHash;
        bytes32 serialHash;
        uint64 notBefore;
        uint64 notAfter;
        bool isCa;
        bool registered;
    }

    /// @notice A CRL's validity window (0, 0 when none is registered).
    struct CrlWindow {
        uint64 thisUpdate;
        uint64 nextUpdate;
    }

    /// @notice A TCB Info or QE Identity record: blob of `abi.encode(TcbInfo|QeIdentity)` and its signer.
    struct SignedRecord {
        address blob;
        bytes32 signerCertHash;
        uint64 issueDate;
    }

    /// @notice Everything the quote verifier reads for the signed collateral of one quote (one call).
    struct SignedCollateral {
        bytes tcbInfo;
        CertRecord tcbSigner;
        bool tcbSignerRevoked;
        bytes qeIdentity;
        CertRecord qeSigner;
        bool qeSignerRevoked;
    }

    /// @notice sha256 of the DER of the pinned root certificate (Intel SGX Root CA in production).
    bytes32 public immutable rootHash;
    /// @notice The root's own record (self-signed, checked at construction).
    CertRecord public root;

    /// @notice Certificates issued by the root, by keccak256 of their DER.
    mapping(bytes32 => CertRecord) public certs;
    /// @notice CRL windows by issuer key: `rootHash` for the Root CA CRL, the CA's cert hash for a PCK CRL.
    mapping(bytes32 => CrlWindow) public crls;
    /// @notice Sticky revocation: keccak256(issuer key, serial hash) => revoked.
    mapping(bytes32 => bool) public revoked;
    /// @notice TCB Info by keccak256(id (0 SGX, 1 TDX), FMSPC).
    mapping(bytes32 => SignedRecord) public tcbInfos;
    /// @notice QE Identity by id (0 QE, 1 TD_QE, 2 QVE).
    mapping(uint8 => SignedRecord) public qeIdentities;

    /// @notice The root certificate is not self-signed.
    error RootNotSelfSigned();
    /// @notice The certificate is not issued (names and signature) by the pinned root.
    error NotIssuedByRoot(bytes32 certHash);
    /// @notice The CRL's issuer name or signature does not match the expected issuer.
    error CrlSignatureInvalid(bytes32 issuerKey);
    /// @notice The issuer certificate of a PCK CRL (or the signer of JSON collateral) is not registered.
    error IssuerNotRegistered(bytes32 certHash);
    /// @notice The issuer of a PCK CRL is not a CA certificate.
    error IssuerNotCa(bytes32 certHash);
    /// @notice The pinned root is listed in the Root CA CRL.
    error RootRevoked();
    /// @notice The ECDSA signature of the JSON collateral does not verify with the signer certificate.
    error CollateralSignatureInvalid(bytes32 signerCertHash);
    /// @notice An item older than the registered one (`registered` is its thisUpdate / issueDate).
    error StaleCollateral(uint64 registered, uint64 offered);

    /// @notice A certificate was registered.
    event CertificateRegistered(bytes32 indexed certHash, bytes32 subjectHash, bool isCa);
    /// @notice A CRL was registered for `issuerKey` (rootHash for the Root CA CRL).
    event CrlRegistered(bytes32 indexed issuerKey, uint64 thisUpdate, uint64 nextUpdate, uint256 entries);
    /// @notice A TCB Info was registered.
    event TcbInfoRegistered(uint8 indexed id, bytes6 indexed fmspc, uint64 issueDate, uint64 nextUpdate, address blob);
    /// @notice A QE Identity was registered.
    event QeIdentityRegistered(uint8 indexed id, uint64 issueDate, uint64 nextUpdate, address blob);

    /// @param rootDer DER of the trust root (Intel SGX Root CA in production; a test root in tests): a self-signed
    ///        P-256 certificate. Its sha256 is `rootHash`.
    constructor(bytes memory rootDer) {
        X509.Cert memory c = X509.parseCert(rootDer);
        if (c.issuerHash != c.subjectHash || !X509.signedBy(rootDer, c, c.keyX, c.keyY)) revert RootNotSelfSigned();
        rootHash = sha256(rootDer);
        root = CertRecord(c.keyX, c.keyY, c.subjectHash, c.serialHash, c.notBefore, c.notAfter, c.isCa, true);
    }

    // ------------------------------------------------------------------ registration (anyone)

    /// @notice Registers a certificate issued directly by the root (PCK Platform/Processor CA, TCB Signing).
    /// @param der DER certificate (RFC 5280), P-256 key, ecdsa-with-SHA256.
    /// @return certHash keccak256(der), the key of {certs}.
    /// @dev Idempotent. Reverts {NotIssuedByRoot}, DerReader.DerMalformed, X509.UnsupportedKey.
    function registerCertificate(bytes calldata der) external returns (bytes32 certHash) {
        certHash = keccak256(der);
        if (certs[certHash].registered) return certHash;
        bytes memory d = der;
        X509.Cert memory c = X509.parseCert(d);
        CertRecord memory r = root;
        if (c.issuerHash != r.subjectHash || c.subjectHash == r.subjectHash || !X509.signedBy(d, c, r.keyX, r.keyY)) {
            revert NotIssuedByRoot(certHash);
        }
        certs[certHash] = CertRecord(c.keyX, c.keyY, c.subjectHash, c.serialHash, c.notBefore, c.notAfter, c.isCa, true);
        emit CertificateRegistered(certHash, c.subjectHash, c.isCa);
    }

    /// @notice Registers the Root CA CRL (signed by the root; the root itself must not be listed).
    /// @param der DER CRL (RFC 5280 5.1).
    function registerRootCrl(bytes calldata der) external {
        bytes memory d = der;
        X509.Crl memory c = X509.parseCrl(d);
        CertRecord memory r = root;
        if (c.issuerHash != r.subjectHash || !_crlSigned(d, c, r.keyX, r.keyY)) revert CrlSignatureInvalid(rootHash);
        _storeCrl(rootHash, d, c, r.serialHash);
    }

    /// @notice Registers a PCK CRL issued by the registered CA `issuerCertHash` (Platform or Processor CA).
    /// @param der DER CRL. @param issuerCertHash keccak256 of the issuing CA's DER (registered with registerCertificate).
    function registerPckCrl(bytes calldata der, bytes32 issuerCertHash) external {
        CertRecord memory ca = certs[issuerCertHash];
        if (!ca.registered) revert IssuerNotRegistered(issuerCertHash);
        if (!ca.isCa) revert IssuerNotCa(issuerCertHash);
        bytes memory d = der;
        X509.Crl memory c = X509.parseCrl(d);
        if (c.issuerHash != ca.subjectHash || !_crlSigned(d, c, ca.keyX, ca.keyY)) revert CrlSignatureInvalid(issuerCertHash);
        _storeCrl(issuerCertHash, d, c, bytes32(0));
    }

    /// @notice Registers a TCB Info: verifies the signature over the exact JSON bytes, derives the compact form.
    /// @param json Exact text of the PCS body's `tcbInfo` value (the signed bytes).
    /// @param r Signature r (big-endian). @param s Signature s. (PCS `signature` hex = r || s.)
    /// @param signerCertHash keccak256 of the TCB Signing certificate's DER (registered).
    function registerTcbInfo(bytes calldata json, bytes32 r, bytes32 s, bytes32 signerCertHash) external {
        bytes memory j = json;
        _checkSigned(j, r, s, signerCertHash);
        TcbCollateral.TcbInfo memory t = TcbCollateral.parseTcbInfo(j);
        bytes32 k = keccak256(abi.encode(t.id, t.fmspc));
        SignedRecord memory old = tcbInfos[k];
        if (old.blob != address(0)) {
            if (t.issueDate < old.issueDate) revert StaleCollateral(old.issueDate, t.issueDate);
            if (t.issueDate == old.issueDate) return;
        }
        address blob = Blob.write(abi.encode(t));
        tcbInfos[k] = SignedRecord(blob, signerCertHash, t.issueDate);
        emit TcbInfoRegistered(t.id, t.fmspc, t.issueDate, t.nextUpdate, blob);
    }

    /// @notice Registers a QE Identity (Enclave Identity v2 of QE or TD_QE), verified like {registerTcbInfo}.
    function registerQeIdentity(bytes calldata json, bytes32 r, bytes32 s, bytes32 signerCertHash) external {
        bytes memory j = json;
        _checkSigned(j, r, s, signerCertHash);
        TcbCollateral.QeIdentity memory q = TcbCollateral.parseQeIdentity(j);
        SignedRecord memory old = qeIdentities[q.id];
        if (old.blob != address(0)) {
            if (q.issueDate < old.issueDate) revert StaleCollateral(old.issueDate, q.issueDate);
            if (q.issueDate == old.issueDate) return;
        }
        address blob = Blob.write(abi.encode(q));
        qeIdentities[q.id] = SignedRecord(blob, signerCertHash, q.issueDate);
        emit QeIdentityRegistered(q.id, q.issueDate, q.nextUpdate, blob);
    }

    // ------------------------------------------------------------------ reads (for DcapQuoteVerifier)

    /// @notice The root record (immutable after construction).
    function rootRecord() external view returns (CertRecord memory) {
        return root;
    }

    /// @notice A registered certificate (registered = false when unknown).
    function cert(bytes32 certHash) external view returns (CertRecord memory) {
        return certs[certHash];
    }

    /// @notice CRL state of a PCK chain: root CRL and PCK CRL windows, and whether the CA (in the root CRL) or the
    ///         leaf (in the CA's PCK CRL) is revoked.
    function crlState(bytes32 caCertHash, bytes32 caSerialHash, bytes32 leafSerialHash)
        external
        view
        returns (CrlWindow memory rootCrl, CrlWindow memory pckCrl, bool caRevoked, bool leafRevoked)
    {
        rootCrl = crls[rootHash];
        pckCrl = crls[caCertHash];
        caRevoked = revoked[keccak256(abi.encode(rootHash, caSerialHash))];
        leafRevoked = revoked[keccak256(abi.encode(caCertHash, leafSerialHash))];
    }

    /// @notice The TCB Info of (`tcbId`, `fmspc`) and the QE Identity `qeId` with their signers (empty blobs when
    ///         not registered).
    function signedCollateral(uint8 tcbId, bytes6 fmspc, uint8 qeId) external view returns (SignedCollateral memory c) {
        SignedRecord memory t = tcbInfos[keccak256(abi.encode(tcbId, fmspc))];
        SignedRecord memory q = qeIdentities[qeId];
        c.tcbInfo = Blob.read(t.blob);
        c.qeIdentity = Blob.read(q.blob);
        c.tcbSigner = certs[t.signerCertHash];
        c.qeSigner = certs[q.signerCertHash];
        c.tcbSignerRevoked = revoked[keccak256(abi.encode(rootHash, c.tcbSigner.serialHash))];
        c.qeSignerRevoked = revoked[keccak256(abi.encode(rootHash, c.qeSigner.serialHash))];
    }

    // ------------------------------------------------------------------ internals

    function _crlSigned(bytes memory d, X509.Crl memory c, bytes32 x, bytes32 y) private view returns (bool) {
        return P256.verify(P256.sha256Range(d, c.tbsStart, c.tbsEnd), c.sigR, c.sigS, x, y);
    }

    function _storeCrl(bytes32 issuerKey, bytes memory d, X509.Crl memory c, bytes32 mustNotList) private {
        CrlWindow memory old = crls[issuerKey];
        if (c.thisUpdate < old.thisUpdate) revert StaleCollateral(old.thisUpdate, c.thisUpdate);
        uint256 n;
        uint256 p = c.revokedStart;
        while (p < c.revokedEnd) {
            bytes32 serial;
            (serial, p) = X509.nextRevoked(d, p, c.revokedEnd);
            if (serial == mustNotList && mustNotList != bytes32(0)) revert RootRevoked();
            revoked[keccak256(abi.encode(issuerKey, serial))] = true;
            ++n;
        }
        if (c.thisUpdate > old.thisUpdate) crls[issuerKey] = CrlWindow(c.thisUpdate, c.nextUpdate);
        emit CrlRegistered(issuerKey, c.thisUpdate, c.nextUpdate, n);
    }

    function _checkSigned(bytes memory j, bytes32 r, bytes32 s, bytes32 signerCertHash) private view {
        CertRecord memory signer = certs[signerCertHash];
        if (!signer.registered) revert IssuerNotRegistered(signerCertHash);
        if (!P256.verify(sha256(j), r, s, signer.keyX, signer.keyY)) revert CollateralSignatureInvalid(signerCertHash);
    }
}
