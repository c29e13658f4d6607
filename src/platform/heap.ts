// The process's V8 heap: how large the young generation may grow.
import v8 from 'node:v8';

/**
 * Keeps the young generation at its starting size (two 1 MB semi-spaces) instead of letting it
 * grow to Node 24's default of two 64 MB semi-spaces under a burst of allocation. An import's
 * facts step (reading every row's stored facts and comparing them) grew it to 128 MB, which took a
 * million-row re-import's peak to 450-531 MB against the 500 MB target; kept at its start, the
 * same re-import peaks at 276-301 MB in the same time (docs/PERFORMANCE.md, session 21). Called by
 * the entry points (bin/shouhu.js, scripts/start.ts) before they load any other module: loading
 * the server's modules alone grows the space to 128 MB, and a grown space is not given back. V8
 * reads the factor each time it would grow the space, so setting it after start takes effect.
 */
export function boundYoungGeneration(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
