// The shape of a CLI command. Commands are plain functions over the application context so the
// same code runs in the CLI's own process or, when a server already owns the embedded database,
// inside that server (routed over the data folder's local socket).
import type { AppContext } from '../platform/context.ts';

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | true>;
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
  usage: string;
  run(args: ParsedArgs, ctx: AppContext, io: CommandIO): Promise<number>;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) flags[arg.slice(2, eq)] = arg.slice(eq + 1);
      else {
        const next = argv[i + 1];
        if (next !== undefined && !next.startsWith('--')) {
          flags[arg.slice(2)] = next;
          i++;
        } else flags[arg.slice(2)] = true;
      }
    } else positionals.push(arg);
  }
  return { positionals, flags };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export class UsageError extends Error {}
