// Shared helpers for benchmarks: fresh databases on both engines, timing, and figures.
import { performance } from 'node:perf_hooks';
import { openTestDatabase, type TestDatabase } from '../test/support/db.ts';

export type Engine = 'pglite' | 'postgres';

export const POSTGRES_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Engines to run: `--engine pglite|postgres` or both. */
export function enginesFromArgs(argv = process.argv.slice(2)): Engine[] {
  const i = argv.indexOf('--engine');
  const chosen = i >= 0 ? argv[i + 1] : undefined;
  if (chosen === 'pglite' || chosen === 'postgres') return [chosen];
  return ['pglite', 'postgres'];
}

export function numberArg(name: string, fallback: number, argv = process.argv.slice(2)): number {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export function stringArg(name: string, fallback: string, argv = process.argv.slice(2)): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : fallback;
}

export async function freshDatabase(engine: Engine): Promise<TestDatabase> {
  const previous = process.env.TEST_DATABASE_URL;
  process.env.TEST_DATABASE_URL = engine === 'postgres' ? POSTGRES_URL : '';
  try {
    return await openTestDatabase();
  } finally {
    if (previous === undefined) delete process.env.TEST_DATABASE_URL;
    else process.env.TEST_DATABASE_URL = previous;
  }
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? NaN;
}

export function report(title: string, rows: Record<string, string | number>[]): void {
  process.stdout.write(`\n## ${title}\n`);
  if (!rows.length) return;
  const headers = Object.keys(rows[0] ?? {});
  process.stdout.write(`| ${headers.join(' | ')} |\n| ${headers.map(() => '---').join(' | ')} |\n`);
  for (const row of rows) process.stdout.write(`| ${headers.map((h) => String(row[h])).join(' | ')} |\n`);
}

const missed: string[] = [];

/**
 * A benchmark's target, checked: the verdict for a column of the report ('met' or 'MISSED'). A
 * missed target is listed at the end of the run and makes the process exit with status 1, so a
 * script or CI step that runs a benchmark fails when the figure breaks its target.
 */
export function verdict(target: string, met: boolean, figure: string): string {
  if (!met) {
    missed.push(`${target}: ${figure}`);
    process.exitCode = 1;
  }
  return met ? 'met' : 'MISSED';
}

process.on('beforeExit', () => {
  if (!missed.length) return;
  process.stdout.write(`\ntargets missed:\n${missed.map((m) => `- ${m}`).join('\n')}\n`);
  missed.length = 0;
});
