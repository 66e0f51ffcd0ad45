import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { stringify } from 'smol-toml';
import type { Hex } from 'viem';

/**
 * Gramine manifest template for an SGX enclave bundle (build time only, not part of any enclave bundle;
 * docs/enclave.md#platform). Gramine (https://gramine.readthedocs.io, "Manifest syntax") runs Node with the bundle
 * inside an SGX enclave; `gramine-manifest` renders the template's Jinja placeholders (`{{ gramine.libos }}`,
 * `{{ gramine.runtimedir() }}`, `{{ arch_libdir }}`) and `gramine-sgx-sign` computes MRENCLAVE from the result.
 *
 * What the manifest fixes, because MRENCLAVE covers it and the host must not choose it:
 * - argv (`node /geode/enclave.mjs`) and the environment (the host's environment is not passed in:
 *   loader.insecure__use_host_env stays false), so GEODE_* variables cannot move the attestation device;
 * - the bundle as a trusted file pinned by its SHA-256, the Node binary and system libraries as trusted files
 *   (hashed by gramine-sgx-sign);
 * - `sgx.remote_attestation = "dcap"` (the /dev/attestation quote interface), `sgx.debug = false`;
 * - the data directory as the only allowed (untrusted, passthrough) files: Geode seals everything it writes there.
 * `sys.insecure__allow_eventfd` is set because Node's event loop needs eventfd; eventfd only carries wake-ups, and
 * no outcome depends on them.
 */

/** Options of {@link gramineManifest}. */
export interface GramineManifestOptions {
  /** The enclave bundle built with tee 'sgx' (its path relative to the manifest is what the template names). */
  bundle: string;
  /** Node binary inside the image, absolute; default /usr/bin/node. */
  node?: string;
  /** Host directory for sealed files, relative to where gramine-sgx runs; default `geode-data`. */
  dataDir?: string;
  /** sgx.enclave_size; default "4G" (Node's heap and code). */
  enclaveSize?: string;
  /** sgx.max_threads; default 32. */
  maxThreads?: number;
  /** sgx.isvprodid / sgx.isvsvn written into SIGSTRUCT; default 0 / 0. */
  isvProdId?: number;
  isvSvn?: number;
}

/**
 * Render the manifest template (TOML with Jinja placeholders, written by smol-toml). Returns the text and the
 * bundle's SHA-256 (0x hex) that the template pins. Throws node's error when the bundle cannot be read and
 * TypeError for an option out of range.
 */
export function gramineManifest(o: GramineManifestOptions): { text: string; bundleSha256: Hex } {
  const node = o.node ?? '/usr/bin/node';
  const data = o.dataDir ?? 'geode-data';
  if (!node.startsWith('/')) throw new TypeError('gramineManifest: node must be an absolute path inside the image');
  if (data.includes('..') || data.startsWith('/')) throw new TypeError('gramineManifest: dataDir must be a relative path without ".."');
  const threads = o.maxThreads ?? 32;
  if (!Number.isInteger(threads) || threads < 4 || threads > 1024) throw new TypeError('gramineManifest: maxThreads must be an integer in 4..1024');
  const bundleSha256 = createHash('sha256').update(readFileSync(o.bundle)).digest('hex');
  const bundle = basename(o.bundle);
  const manifest = {
    libos: { entrypoint: node },
    loader: {
      entrypoint: { uri: 'file:{{ gramine.libos }}' },
      log_level: 'error',
      argv: [node, '/geode/enclave.mjs'],
      env: { LD_LIBRARY_PATH: '/lib:{{ arch_libdir }}:/usr/{{ arch_libdir }}', GEODE_ENCLAVE_DIR: '/geode/data' },
    },
    fs: {
      mounts: [
        { path: '/lib', uri: 'file:{{ gramine.runtimedir() }}' },
        { path: '{{ arch_libdir }}', uri: 'file:{{ arch_libdir }}' },
        { path: '/usr/{{ arch_libdir }}', uri: 'file:/usr/{{ arch_libdir }}' },
        { path: node, uri: `file:${node}` },
        { path: '/geode/enclave.mjs', uri: `file:${bundle}` },
        { path: '/geode/data', uri: `file:${data}` },
        { type: 'tmpfs', path: '/tmp' },
      ],
    },
    sys: { insecure__allow_eventfd: true, stack: { size: '2M' } },
    sgx: {
      debug: false,
      remote_attestation: 'dcap',
      enclave_size: o.enclaveSize ?? '4G',
      max_threads: threads,
      edmm_enable: false,
      isvprodid: o.isvProdId ?? 0,
      isvsvn: o.isvSvn ?? 0,
      trusted_files: [
        { uri: 'file:{{ gramine.libos }}' },
        { uri: `file:${node}` },
        { uri: 'file:{{ gramine.runtimedir() }}/' },
        { uri: 'file:{{ arch_libdir }}/' },
        { uri: 'file:/usr/{{ arch_libdir }}/' },
        { uri: `file:${bundle}`, sha256: bundleSha256 },
      ],
      allowed_files: [`file:${data}/`],
    },
  };
  const head = `# Gramine manifest template for ${bundle}, written by \`geode enclave build --tee sgx\`.\n# Render and sign (prints MRENCLAVE, the measurement the contract lists):\n#   gramine-manifest -Darch_libdir=/lib/x86_64-linux-gnu ${bundle}.manifest.template ${bundle}.manifest\n#   gramine-sgx-sign --manifest ${bundle}.manifest --output ${bundle}.manifest.sgx\n`;
  return { text: `${head}\n${stringify(manifest)}\n`, bundleSha256: `0x${bundleSha256}` };
}
