#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `npx geode` works from a clone without a compile step.
import { register } from 'tsx/esm/api';
register();
const { run } = await import('../src/main.ts');
await run(process.argv);
