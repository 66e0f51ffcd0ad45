import { custom, type CustomTransport } from 'viem';
import type { Devnet } from './devnet.ts';

/** A viem transport that calls the in-process devnet directly (no HTTP), with retries disabled. */
export function devnetTransport(devnet: Devnet): CustomTransport {
  return custom({ request: devnet.request }, { retryCount: 0, key: 'geode-devnet', name: 'Geode devnet' });
}
