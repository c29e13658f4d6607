#!/usr/bin/env node
// Entry point of the `shouhu` command. Node.js 24 runs the TypeScript sources directly.
import { boundYoungGeneration } from '../src/platform/heap.ts';

// Before any other module loads (loading them would grow the young generation).
boundYoungGeneration();
const { main } = await import('../src/cli/main.ts');

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`shouhu: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
