// Checks of command-line values that several commands share: region codes, the file a command reads
// and the file it writes. Each refusal names the option or argument and says why.
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { DB } from '../platform/db.schema.ts';
import { findRegion, REGION_CODE_PATTERN } from '../modules/regions/index.ts';
import { CommandError, stringFlag, UsageError, type ParsedArgs } from './command.ts';

const REGION_CODE = new RegExp(REGION_CODE_PATTERN);
const LEVEL_OF_LENGTH: Record<number, string> = {
  2: 'province',
  4: 'prefecture',
  6: 'county',
  9: 'township',
  12: 'village',
};

function listed(words: string[]): string {
  return words.length < 2 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

/**
 * A region code option in the form the division uses: 2, 4, 6, 9 or 12 digits (or only the
 * `lengths` the command takes). A prefix of another length (41022) is no region and is refused.
 */
export function regionCodeFlag(
  args: ParsedArgs,
  name: string,
  lengths: readonly number[] = [2, 4, 6, 9, 12],
): string | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  if (!REGION_CODE.test(raw) || !lengths.includes(raw.length)) {
    const levels = listed(lengths.map((n) => LEVEL_OF_LENGTH[n] ?? String(n)));
    const digits = listed(lengths.map(String));
    const kind =
      lengths.length === 1
        ? `a ${digits}-digit ${levels} code`
        : lengths.length === 5
          ? `a region code of ${digits} digits`
          : `a ${levels} code of ${digits} digits`;
    throw new UsageError(`--${name} takes ${kind}, got "${raw}"`);
  }
  return raw;
}

/** Refuses a region code the installation has not loaded (as the API answers 行政区划 … 不存在). */
export async function requireLoadedRegion(db: Kysely<DB>, name: string, code: string): Promise<void> {
  if (await findRegion(db, code)) return;
  throw new UsageError(
    `--${name}: region ${code} does not exist in the loaded regions (行政区划 ${code} 不存在); ` +
      `'shouhu regions load' loads the division`,
  );
}

/** What an operating-system error means for a file the user named. */
const REASONS: Record<string, string> = {
  ENOENT: 'the folder does not exist',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
};

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return (code && REASONS[code]) ?? code ?? (error instanceof Error ? error.message : String(error));
}

export interface OutputFile {
  /** The absolute path. */
  file: string;
  format: 'csv' | 'xlsx';
}

/**
 * The file an --out option names, checked before any work: a .csv or .xlsx name, in a folder that
 * exists and may be written, and not itself a folder.
 */
export function outputFileFlag(args: ParsedArgs, name: string): OutputFile | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  const ext = path.extname(raw).toLowerCase();
  if (ext !== '.csv' && ext !== '.xlsx')
    throw new UsageError(`--${name} takes a file name ending in .csv or .xlsx, got "${raw}"`);
  const file = path.resolve(args.cwd ?? process.cwd(), raw);
  const folder = path.dirname(file);
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (stat?.isDirectory()) throw new UsageError(`--${name}: ${file} is a folder, not a file`);
  const folderStat = fs.statSync(folder, { throwIfNoEntry: false });
  if (!folderStat) throw new UsageError(`--${name}: the folder ${folder} does not exist`);
  if (!folderStat.isDirectory()) throw new UsageError(`--${name}: ${folder} is not a folder`);
  try {
    fs.accessSync(stat ? file : folder, fs.constants.W_OK);
  } catch {
    throw new UsageError(`--${name}: ${stat ? file : `the folder ${folder}`} may not be written`);
  }
  return { file, format: ext === '.csv' ? 'csv' : 'xlsx' };
}

/** A file argument the command reads: an existing, readable regular file; the absolute path. */
export function inputFileArgument(args: ParsedArgs, raw: string, label = 'FILE'): string {
  const file = path.resolve(args.cwd ?? process.cwd(), raw);
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) throw new UsageError(`${label}: ${file} does not exist`);
  if (stat.isDirectory()) throw new UsageError(`${label}: ${file} is a folder, not a file`);
  if (!stat.isFile()) throw new UsageError(`${label}: ${file} is not a regular file`);
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    throw new UsageError(`${label}: ${file} may not be read`);
  }
  return file;
}

/**
 * Writes `file` through `write`, which receives the open stream and a function that throws once
 * the stream has failed (to stop producing rows). Any error of the stream (a full disk, a folder
 * removed meanwhile) fails the command with a message naming `label` (--out) and the reason; the
 * half-written file is removed. Never resolves without the file complete on disk, never waits for a
 * stream that has died.
 */
export async function writeOutputFile<T>(
  label: string,
  file: string,
  write: (out: Writable, stopIfFailed: () => void) => Promise<T>,
): Promise<T> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'w', 0o644);
  } catch (error) {
    throw new CommandError(`${label}: cannot write ${file}: ${reason(error)}`);
  }
  const out = fs.createWriteStream(file, { fd, highWaterMark: 1 << 20 });
  let failure: unknown = null;
  const failed = new Promise<never>((_, reject) => {
    out.on('error', (error) => {
      failure ??= error;
      reject(error);
    });
  });
  failed.catch(() => {});
  const stopIfFailed = () => {
    if (failure) throw failure;
  };
  try {
    const result = await Promise.race([write(out, stopIfFailed), failed]);
    // A .csv writer leaves a stream it was given open; the .xlsx writer has ended it.
    if (!out.writableEnded) out.end();
    if (!out.writableFinished) await Promise.race([once(out, 'finish'), failed]);
    stopIfFailed();
    return result;
  } catch (error) {
    out.destroy();
    fs.rmSync(file, { force: true });
    if (failure) throw new CommandError(`${label}: writing ${file} failed: ${reason(failure)}`);
    throw error;
  }
}
