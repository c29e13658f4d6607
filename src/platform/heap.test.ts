// Shouhu's entry point keeps the young generation at its starting size: after the command has
// loaded its modules and a burst of allocation has run, the new space is a few megabytes, where a
// process that loaded the same modules without the entry grows it to tens of megabytes (the
// control shows that loading and the burst would grow it).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const entry = path.resolve(import.meta.dirname, '../../bin/shouhu.js');
const mainModule = path.resolve(import.meta.dirname, '../cli/main.ts');

/** The new space's size (MB) after `shouhu --help` and a burst of allocation, in a fresh process. */
function newSpaceAfterBurst(throughEntry: boolean): number {
  const script = `
    import v8 from 'node:v8';
    process.argv = [process.execPath, 'shouhu', '--help'];
    await import(${JSON.stringify(throughEntry ? entry : mainModule)});
    // Rows held across a few turns of the event loop, as an import's chunks are: most survive a
    // scavenge or two, which is what makes V8 grow the young generation.
    let held = [];
    for (let round = 0; round < 200; round++) {
      held.push(Array.from({ length: 20000 }, (_, i) => ({ id: i, text: 'row ' + i + ' ' + round })));
      if (held.length > 8) held = held.slice(-4);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    process.stdout.write('\\nnew space MB: ' + Math.round((space?.space_size ?? 0) / 1048576));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const size = /new space MB: (\d+)$/.exec(out);
  assert.ok(size, out.slice(-200));
  return Number(size[1]);
}

test('the shouhu entry keeps the young generation small through module loading and a burst of allocation', () => {
  const bounded = newSpaceAfterBurst(true);
  const unbounded = newSpaceAfterBurst(false);
  assert.ok(
    unbounded >= 16,
    `control: the same modules and burst grow a plain process's new space (${unbounded} MB)`,
  );
  assert.ok(bounded <= 4, `the new space stays at its start (${bounded} MB)`);
});
