// The shape of a CLI command. Commands are plain functions over the application context so the
// same code runs in the CLI's own process or, when a server already owns the embedded database,
// inside that server (routed over the data folder's local socket).
import { DomainError } from '../platform/errors.ts';
import type { AppContext } from '../platform/context.ts';

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | true>;
  /**
   * The folder a relative path on the command line means: the caller's, also when the command runs
   * inside a server (whose own working folder is another). Absent: this process's.
   */
  cwd?: string;
}

export interface CommandIO {
  print(line: string): void;
  error(line: string): void;
  /** Long work reports here; the terminal shows a progress bar. */
  progress(done: number, total: number | null, message: string): void;
  /** Asks on the terminal (absent when the command runs inside a server or without a TTY). */
  prompt?(question: string, options?: { hidden?: boolean }): Promise<string>;
}

export interface CommandSpec {
  /** Words that name the command, e.g. ['regions', 'load']. */
  path: string[];
  summary: string;
  /**
   * The one list of what the command takes: the options it names (one followed by a value word,
   * `--out FILE`, takes a value; `--force` does not) and, outside brackets, its arguments (`FILE`).
   */
  usage: string;
  /**
   * Checks of the arguments that need no database (formats, ranges, the --out folder), run before the
   * database is opened; throws UsageError. `run` may call it again for the values.
   */
  check?(args: ParsedArgs): void;
  run(args: ParsedArgs, ctx: AppContext, io: CommandIO): Promise<number>;
}

/** A wrong argument: the message names it and says why; exit code 2, with the command's usage. */
export class UsageError extends Error {}

/** A command that could not do its work for a reason the message says in full; exit code 1. */
export class CommandError extends Error {}

/** What a usage line says a command takes. */
export interface CommandSyntax {
  /** Option name -> the word for its value (FILE, CODE), or null for an option that takes none. */
  options: Map<string, string | null>;
  /** The names of its positional arguments, in order (FILE, ID). */
  positionals: string[];
}

export function syntaxOf(command: Pick<CommandSpec, 'path' | 'usage'>): CommandSyntax {
  const options = new Map<string, string | null>();
  for (const m of command.usage.matchAll(/--([a-z][a-z0-9-]*)(?: ([A-Za-z0-9][^\s\]]*))?/g))
    options.set(m[1] ?? '', m[2] ?? null);
  const words = command.usage
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/--[a-z][a-z0-9-]*(?: [A-Za-z0-9][^\s\]]*)?/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  return { options, positionals: words.slice(1 + command.path.length) };
}

/**
 * Splits argv into options and positional arguments. With `options` (from the usage), an option that
 * takes no value never swallows the next word, and one that does takes the next word unless it is
 * another option (`--out --seed 1`: --out has no value and is refused by parseCommandArgs).
 */
export function parseArgs(argv: string[], options?: ReadonlyMap<string, string | null>): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) flags[arg.slice(2, eq)] = arg.slice(eq + 1);
      else {
        const name = arg.slice(2);
        const next = argv[i + 1];
        if (options?.get(name) !== null && next !== undefined && !next.startsWith('--')) {
          flags[name] = next;
          i++;
        } else flags[name] = true;
      }
    } else positionals.push(arg);
  }
  return { positionals, flags };
}

/** `--help` or `-h` anywhere after the command's words. */
export function asksForHelp(rest: readonly string[]): boolean {
  return rest.some((arg) => arg === '-h' || arg === '--help' || arg.startsWith('--help='));
}

/**
 * The arguments as the command's usage allows them, or a UsageError naming what is wrong: an option
 * it does not take, an option without its value (which would otherwise silently mean the default),
 * a value given to an option that takes none, an argument too many or one missing.
 */
export function parseCommandArgs(
  command: Pick<CommandSpec, 'path' | 'usage'>,
  rest: string[],
  cwd?: string,
): ParsedArgs {
  const syntax = syntaxOf(command);
  const args = parseArgs(rest, syntax.options);
  const name = `'shouhu ${command.path.join(' ')}'`;
  const unknown = Object.keys(args.flags).filter((flag) => !syntax.options.has(flag));
  if (unknown.length > 0)
    throw new UsageError(`unknown option ${unknown.map((flag) => `--${flag}`).join(', ')} for ${name}`);
  for (const [flag, value] of Object.entries(args.flags)) {
    const valueWord = syntax.options.get(flag);
    if (valueWord && (value === true || value === ''))
      throw new UsageError(`--${flag} needs a value: --${flag} ${valueWord}`);
    if (!valueWord && value !== true)
      throw new UsageError(`--${flag} takes no value, got "--${flag}=${value}"`);
  }
  const extra = args.positionals.slice(syntax.positionals.length);
  if (extra.length > 0)
    throw new UsageError(
      `unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((a) => `"${a}"`).join(' ')} for ${name}`,
    );
  const missing = syntax.positionals.slice(args.positionals.length);
  if (missing.length > 0) throw new UsageError(`${name} needs ${missing.join(' ')}`);
  return cwd === undefined ? args : { ...args, cwd };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}

const thousands = (n: number | bigint) => n.toLocaleString('en-US');

/**
 * A whole number written in decimal digits within [min, max]; `label` names it in the refusal
 * (`--persons`, `ID`). Not Number(): that takes 1e9, 0x10, 2.0 and ' 5'.
 */
export function wholeNumber(label: string, raw: string, min: number, max: number): number {
  const value = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max))
    throw new UsageError(
      `${label} takes a whole number from ${thousands(min)} to ${thousands(max)}, got "${raw}"`,
    );
  return value;
}

/** An integer option, or its default when it is not given. */
export function numberFlag(
  args: ParsedArgs,
  name: string,
  range: { min: number; max: number; fallback: number },
): number {
  const raw = stringFlag(args, name);
  return raw === undefined ? range.fallback : wholeNumber(`--${name}`, raw, range.min, range.max);
}

const BIGINT_MAX = 9223372036854775807n;

/**
 * A record id (a bigint column): decimal digits from 1 to 2^63-1, else a UsageError naming `label`.
 * Returns null for an id no row can have in this process's numbers (beyond 2^53): such a row is not found.
 */
export function recordId(label: string, raw: string): number | null {
  const value = /^\d{1,19}$/.test(raw) ? BigInt(raw) : -1n;
  if (value < 1n || value > BIGINT_MAX)
    throw new UsageError(`${label} takes a whole number from 1 to ${thousands(BIGINT_MAX)}, got "${raw}"`);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : null;
}

/** A short account of an error for the console: the domain's own message, else one line of the error. */
export function describeError(error: unknown): string {
  if (error instanceof DomainError) {
    const details = error.details.map((d) => `  ${d.path}: ${d.message.en} / ${d.message.zh}`);
    return [`${error.code}: ${error.userMessage.en} / ${error.userMessage.zh}`, ...details].join('\n');
  }
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/**
 * The modules' commands as the CLI runs them: a wrong argument (UsageError) or a clean refusal
 * (CommandError, DomainError) found while running is reported on `io` with its exit code, so a
 * caller of `run` (the CLI, the local socket, a test) gets a code and a message, not an exception.
 */
export function defineCommands(specs: CommandSpec[]): CommandSpec[] {
  return specs.map((spec) => ({
    ...spec,
    async run(args, ctx, io) {
      try {
        return await spec.run(args, ctx, io);
      } catch (error) {
        if (error instanceof UsageError || error instanceof CommandError || error instanceof DomainError)
          return reportFailure(spec, error, io);
        throw error;
      }
    },
  }));
}

/**
 * Runs a command with its arguments checked, reporting every failure as one clear message and an exit
 * code: 2 for a wrong argument (with the usage), 1 for a refusal or failure. Anything unexpected (a
 * database error, a bug) is a short line, never a stack or SQL text; `unexpected` receives the error
 * itself for the log.
 */
export async function executeCommand(
  command: CommandSpec,
  rest: string[],
  ctx: AppContext,
  io: CommandIO,
  options: { cwd?: string; unexpected?: (error: unknown) => void } = {},
): Promise<number> {
  try {
    const args = parseCommandArgs(command, rest, options.cwd);
    command.check?.(args);
    return await command.run(args, ctx, io);
  } catch (error) {
    return reportFailure(command, error, io, options.unexpected);
  }
}

/** The message and exit code of a failed command (see executeCommand). */
export function reportFailure(
  command: Pick<CommandSpec, 'usage'> | null,
  error: unknown,
  io: Pick<CommandIO, 'error'>,
  unexpected?: (error: unknown) => void,
): number {
  if (error instanceof UsageError) {
    io.error(error.message);
    if (command) io.error(`usage: ${command.usage}`);
    return 2;
  }
  if (error instanceof CommandError || error instanceof DomainError) {
    io.error(error instanceof CommandError ? error.message : describeError(error));
    return 1;
  }
  unexpected?.(error);
  io.error(`the command failed: ${describeError(error)}`);
  return 1;
}
