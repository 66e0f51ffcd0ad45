import { createNodeFromProof, ProofType } from '@chainsafe/persistent-merkle-tree';
import { byteArrayEquals } from '@chainsafe/ssz';

/**
 * SSZ Merkle branch check (consensus-specs phase0 beacon-chain.md is_valid_merkle_branch, with the generalized
 * index of ssz/merkle-proofs.md): `branch[0]` is the leaf's sibling, `branch.length` must equal floor(log2(gindex)).
 * The tree is rebuilt by ChainSafe's persistent-merkle-tree (the SSZ library Lodestar uses); Geode only compares.
 * `leaf`, branch nodes and `root` are 32-byte arrays. Returns false (never throws) on any mismatch.
 */
export function isValidBranch(leaf: Uint8Array, branch: readonly Uint8Array[], gindex: number, root: Uint8Array): boolean {
  if (!Number.isSafeInteger(gindex) || gindex < 2) return false;
  if (branch.length !== Math.floor(Math.log2(gindex))) return false;
  if (leaf.length !== 32 || root.length !== 32 || branch.some((b) => b.length !== 32)) return false;
  const node = createNodeFromProof({ type: ProofType.single, gindex: BigInt(gindex), leaf, witnesses: [...branch] });
  return byteArrayEquals(node.root, root);
}
