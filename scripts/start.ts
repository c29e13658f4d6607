// `npm start`: builds the web app when its sources are newer than the build, then starts Shouhu on
// the embedded database with the demo county loaded (shouhu serve --demo).
import fs from 'node:fs';
import path from 'node:path';
import { boundYoungGeneration } from '../src/platform/heap.ts';

// Before any other module loads (loading them would grow the young generation).
boundYoungGeneration();

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

const root = path.resolve(import.meta.dirname, '..');
const built = path.join(root, 'web/dist/index.html');
const sources = [path.join(root, 'web/src'), path.join(root, 'web/index.html')];
const sourceTime = Math.max(
  ...sources
    .filter((p) => fs.existsSync(p))
    .map((p) => (fs.statSync(p).isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs)),
);
if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < sourceTime) {
  process.stdout.write('building the web app (first start only) ...\n');
  const { build } = await import('vite');
  await build({ configFile: path.join(root, 'web/vite.config.ts'), logLevel: 'warn' });
}

const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(['serve', '--demo', ...process.argv.slice(2)]);
