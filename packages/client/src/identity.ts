import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { writeFileAtomic } from '@geode/protocol/files';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { bytesToHex, getAddress, hexToBytes, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { z } from 'zod';
import { hpkeDeriveKeyPair } from '@geode/protocol';
import { IdentityError, UnknownIdentityError } from './errors.ts';

/**
 * A user identity: an Ethereum account (secp256k1) that signs its transactions, and an X25519 output key
 * (RFC 7748) the enclave encrypts that user's outputs to. `name` is an easy name for demos (as in the
 * Conclave EventManager client), mapped to the address.
 */
export interface Identity {
  name: string;
  address: Address;
  /** secp256k1 private key, 0x hex 32 bytes. */
  privateKey: Hex;
  /** X25519 output key pair, 0x hex 32 bytes each. */
  outputKey: { privateKey: Hex; publicKey: Hex };
}

const NAME = /^[A-Za-z0-9_.-]{1,32}$/;
const identitySchema = z.object({
  name: z.string().regex(NAME),
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  outputKey: z.object({ privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/), publicKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/) }),
});

/** Check an easy name: 1-32 characters of A-Z a-z 0-9 _ . - . Throws IdentityError otherwise. */
export function checkIdentityName(name: string): string {
  if (!NAME.test(name)) throw new IdentityError(`Identity name "${name.slice(0, 40)}" is invalid: use 1-32 letters, digits, "_", "." or "-".`, { name: name.slice(0, 64) });
  return name;
}

/** Create an identity. With `seed` (>= 32 bytes) the keys are derived deterministically (tests, demos). */
export async function createIdentity(name: string, seed?: Uint8Array): Promise<Identity> {
  checkIdentityName(name);
  const secret = seed ?? randomBytes(32);
  const { keccak256 } = await import('viem');
  const pk = keccak256(new Uint8Array([...secret, 1]));
  const out = await hpkeDeriveKeyPair(hexToBytes(keccak256(new Uint8Array([...secret, 2]))));
  return { name, address: privateKeyToAccount(pk).address, privateKey: pk, outputKey: { privateKey: bytesToHex(out.privateKey), publicKey: bytesToHex(out.publicKey) } };
}

/**
 * Identities kept as one JSON file each in `dir` (mode 0600). Writes are atomic (temp file, fsync, rename),
 * so a crash never leaves a half-written identity.
 */
export class IdentityStore {
  constructor(readonly dir: string) {}

  /** All identities, sorted by name. Unreadable files are skipped and reported in `errors`. */
  list(): { identities: Identity[]; errors: string[] } {
    if (!existsSync(this.dir)) return { identities: [], errors: [] };
    const identities: Identity[] = [];
    const errors: string[] = [];
    for (const f of readdirSync(this.dir).filter((f) => f.endsWith('.json')).sort()) {
      try {
        identities.push(identitySchema.parse(JSON.parse(readFileSync(join(this.dir, f), 'utf8'))) as Identity);
      } catch {
        errors.push(f);
      }
    }
    return { identities, errors };
  }

  /** Find by easy name or address. Throws UnknownIdentityError. */
  get(who: string): Identity {
    const all = this.list().identities;
    const hit = all.find((i) => i.name === who || i.address.toLowerCase() === who.toLowerCase());
    if (!hit) throw new UnknownIdentityError(who);
    return hit;
  }

  /** Easy name for an address, or the checksummed address if unknown. */
  nameOf(address: string): string {
    const hit = this.list().identities.find((i) => i.address.toLowerCase() === address.toLowerCase());
    return hit ? hit.name : getAddress(address);
  }

  /** True when an identity file with this easy name exists. */
  has(name: string): boolean {
    return existsSync(join(this.dir, `${checkIdentityName(name)}.json`));
  }

  /** Save a new identity. Throws IdentityError if the name is taken (nothing is overwritten). */
  save(identity: Identity): void {
    checkIdentityName(identity.name);
    const file = join(this.dir, `${identity.name}.json`);
    if (existsSync(file)) throw new IdentityError(`Identity "${identity.name}" already exists. Pick another name or use the existing one.`, { name: identity.name });
    writeFileAtomic(file, JSON.stringify(identity, null, 2)); // 0600 in a 0700 directory
  }
}
