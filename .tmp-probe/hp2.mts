import { hpkeOpen, hpkeSeal, hpkeGenerateKeyPair } from '@geode/protocol';
import { randomBytes } from 'node:crypto';
const kp = await hpkeGenerateKeyPair();
const pt = randomBytes(200), aad = randomBytes(100);
const N = 20000;
let t = performance.now();
for (let i = 0; i < N; i++) await hpkeSeal(kp.publicKey, 'geode.request.v1', aad, pt, randomBytes(32));
console.log('seal µs', ((performance.now() - t) * 1000 / N).toFixed(1));
