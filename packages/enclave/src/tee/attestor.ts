/**
 * A TEE attestor (docs/enclave.md#attestors): produces evidence that binds 64 bytes of report data to this
 * enclave's measurement. Implementations: ./sim.ts (simulated SGX DCAP quotes); hardware attestors plug in here.
 */
export interface Attestor {
  /** Evidence type, e.g. "sgx-sim", "sgx", "tdx", "sev-snp", "nitro". */
  readonly teeType: string;
  /** True when there is no hardware protection. */
  readonly simulated: boolean;
  /** The enclave measurement (mr_enclave for SGX), 32 bytes. */
  readonly measurement: Uint8Array;
  /** Evidence over `reportData` (exactly 64 bytes). Throws EnclaveError ENCLAVE_ATTESTOR_UNAVAILABLE. */
  quote(reportData: Uint8Array): Uint8Array;
}
