import { defineError } from '@geode/protocol';

/** A command-line argument is missing or malformed. Nothing was sent or written. */
export class CliArgumentError extends defineError({
  codes: ['CLI_BAD_ARGUMENT'],
  docsPath: 'cli.md#cli-bad-argument',
  build: (message: string, details?: Record<string, unknown>) => ({ code: 'CLI_BAD_ARGUMENT', message: `${message} (see --help)`, details }),
}) {}

/** Waiting for the enclave's answer took longer than --timeout. */
export class CliTimeoutError extends defineError({
  codes: ['CLI_TIMEOUT'],
  docsPath: 'cli.md#cli-timeout',
  build: (what: string, seconds: number) => ({ code: 'CLI_TIMEOUT', message: `${what} did not complete within ${seconds} s. Is \`geode dev\` (the host and enclave) still running? Retry with a larger --timeout.`, details: { seconds } }),
}) {}

/** An input file could not be read or is not JSON. Nothing was verified. */
export class CliFileError extends defineError({
  codes: ['CLI_FILE'],
  docsPath: 'protocol.md#errors',
  build: (message: string, cause?: unknown) => ({ code: 'CLI_FILE', message: `${message} Check the path and that the file holds the JSON the command expects (see --help).`, cause }),
}) {}

/**
 * `geode dev` could not listen on --host:--port: another process holds the port (EADDRINUSE), the port needs
 * privileges (EACCES), or the address is not on this machine (EADDRNOTAVAIL). Nothing was deployed or written.
 */
export class CliPortUnavailableError extends defineError({
  codes: ['CLI_PORT_UNAVAILABLE'],
  docsPath: 'cli.md#cli-port-unavailable',
  build: (host: string, port: number, reason: string, cause?: unknown) => {
    const why =
      reason === 'EADDRINUSE' ? `port ${port} on ${host} is already in use (another \`geode dev\` or devnet?)`
      : reason === 'EACCES' ? `listening on port ${port} needs privileges`
      : reason === 'EADDRNOTAVAIL' ? `${host} is not an address of this machine`
      : `cannot listen on ${host}:${port} (${reason})`;
    return { code: 'CLI_PORT_UNAVAILABLE', message: `${why}. Stop the process using it, or pick another with --port (--port 0 takes any free port).`, cause, details: { host, port, reason } };
  },
}) {}

/**
 * The identity's account holds no ETH on the chain `geode dev` now runs, so it cannot pay for a request: usually
 * `geode dev` was restarted (a new devnet and deployment) after the identity was created, which also dropped its
 * output-key registration. Nothing was sent.
 */
export class CliIdentityUnfundedError extends defineError({
  codes: ['CLI_IDENTITY_UNFUNDED'],
  docsPath: 'cli.md#cli-identity-unfunded',
  build: (name: string, address: string) => ({ code: 'CLI_IDENTITY_UNFUNDED', message: `identity "${name}" (${address}) has no funds on this devnet, so it cannot send requests; if \`geode dev\` was restarted since it was created, its output key is not registered with the new deployment either. Run \`geode identity register ${name}\` (or \`geode identity register\` for all identities) to fund it and register its output key again.`, details: { name, address } }),
}) {}

/**
 * An app folder (--app, dev.json's app, or apps/<name>) is not a usable Geode app: no package.json "geode" manifest,
 * a manifest path that does not exist, or a contract that was not built. Nothing was deployed or started.
 */
export class CliAppError extends defineError({
  codes: ['CLI_BAD_APP'],
  docsPath: 'apps.md#layout',
  build: (message: string) => ({ code: 'CLI_BAD_APP', message: `${message}. See docs/apps.md#layout for what an app folder holds.` }),
}) {}
