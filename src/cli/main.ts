// The `shouhu` command line. Every command runs against the configured database; in embedded mode,
// when a server already owns the data folder, the command is executed inside that server through
// the folder's local socket, so operators can import, create tokens or run payrolls while the
// service runs.
import fs from 'node:fs';
import { loadConfig } from '../platform/config.ts';
import { dataDirPaths } from '../platform/embedded.ts';
import { createLogger } from '../platform/logging.ts';
import { DataDirInUseError, openContext, startServer } from '../server.ts';
import {
  asksForHelp,
  CommandError,
  executeCommand,
  numberFlag,
  parseCommandArgs,
  reportFailure,
  type CommandIO,
  type CommandSpec,
} from './command.ts';
import { allCommands, findCommand } from './commands.ts';
import { runViaServer } from './local-socket.ts';
import { progressPrinter } from './progress.ts';
import { prepareDemo } from './demo.ts';

const SERVE = { path: ['serve'], usage: 'shouhu serve [--demo | --no-demo] [--port N]' };

function commandLines(commands: Pick<CommandSpec, 'usage' | 'summary'>[]): string[] {
  return commands.map((c) => `  ${c.usage.replace(/^shouhu /, '').padEnd(40)} ${c.summary}`);
}

function help(): string {
  const lines = ['usage: shouhu <command> [options]', '', 'commands:'];
  lines.push(...commandLines([{ usage: SERVE.usage, summary: 'start the server (http://localhost:3000)' }]));
  lines.push(...commandLines(allCommands()));
  return lines.join('\n');
}

/** The commands of a group (`shouhu demo` -> demo generate), for a group named without its command. */
function groupHelp(group: string): string | null {
  const commands = allCommands().filter((c) => c.path.length > 1 && c.path[0] === group);
  if (commands.length === 0) return null;
  return [`usage: shouhu ${group} <command> [options]`, '', 'commands:', ...commandLines(commands)].join(
    '\n',
  );
}

export interface TerminalStreams {
  stdout: Pick<NodeJS.WriteStream, 'write'>;
  stderr: Pick<NodeJS.WriteStream, 'isTTY' | 'write'>;
}

/** Output on the terminal: a line printed after a progress bar starts on a line of its own. */
export function terminalIO(
  streams: TerminalStreams = { stdout: process.stdout, stderr: process.stderr },
  interactive = Boolean(process.stdin.isTTY),
): CommandIO {
  const progress = progressPrinter(streams.stderr);
  return {
    print: (line) => {
      progress.endLine();
      streams.stdout.write(line + '\n');
    },
    error: (line) => {
      progress.endLine();
      streams.stderr.write(line + '\n');
    },
    progress,
    ...(interactive
      ? {
          prompt: (question: string, options?: { hidden?: boolean }) => {
            progress.endLine();
            return promptOnTerminal(question, options);
          },
        }
      : {}),
  };
}

/** Reads one line from the terminal; hidden input (passwords) is not echoed. */
async function promptOnTerminal(question: string, options: { hidden?: boolean } = {}): Promise<string> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (options.hidden) {
    const output = rl as unknown as { _writeToOutput?: (s: string) => void };
    output._writeToOutput = (s: string) => {
      if (s.startsWith(question)) process.stdout.write(question);
    };
  }
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    if (options.hidden) process.stdout.write('\n');
    rl.close();
  }
}

async function serve(rest: string[], io: CommandIO): Promise<number> {
  const args = parseCommandArgs(SERVE, rest);
  const port = numberFlag(args, 'port', { min: 1, max: 65535, fallback: 0 });
  const demo = args.flags.demo === true;
  const config = loadConfig(process.env, { ...(port ? { port } : {}), demoMode: demo });
  const logger = createLogger(config.logLevel);
  const running = await startServer(config, {
    logger,
    beforeListen: async (ctx) => {
      if (demo) await prepareDemo(ctx, io);
    },
  });
  io.print(`Shouhu is running at ${running.url}  (API reference: ${running.url}/api/v1/docs)`);
  const shutdown = (signal: string) => {
    io.print(`${signal}: finishing in-flight requests and stopping`);
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  return new Promise<number>(() => {});
}

/** The command line of a process, for naming the holder of the data folder (Linux; else null). */
function commandLineOf(pid: number): string | null {
  try {
    const words = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (words.length === 0) return null;
    const line = words.map((w, i) => (i === 0 ? w.replace(/^.*\//, '') : w)).join(' ');
    return line.length > 160 ? `${line.slice(0, 160)}…` : line;
  } catch {
    return null;
  }
}

/**
 * The embedded data folder is locked by a process that does not listen on its socket: another
 * command (a command owns the folder while it runs and takes no others), or a server still starting.
 */
function dataFolderBusy(dataDir: string, pid: number): CommandError {
  const command = commandLineOf(pid);
  return new CommandError(
    `the data folder ${dataDirPaths(dataDir).root} is in use by another Shouhu process ` +
      `(pid ${pid}${command ? `: ${command}` : ''}), which takes no commands: another command still ` +
      'running, or a server still starting. Wait until it has finished (or the server has started) and run this again.',
  );
}

async function runCommandLine(argv: string[], io: CommandIO): Promise<number> {
  if (!argv.length || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(help() + '\n');
    return argv.length ? 0 : 2;
  }
  if (argv[0] === 'serve') {
    const rest = argv.slice(1);
    if (asksForHelp(rest)) {
      process.stdout.write(`usage: ${SERVE.usage}\n`);
      return 0;
    }
    try {
      return await serve(rest, io);
    } catch (error) {
      return reportFailure(SERVE, error, io);
    }
  }
  const found = findCommand(argv);
  if (!found) {
    const group = groupHelp(argv[0] ?? '');
    if (group && argv.length === 2 && asksForHelp(argv.slice(1))) {
      process.stdout.write(group + '\n');
      return 0;
    }
    const what =
      argv.length === 1 && group
        ? `'shouhu ${argv[0]}' needs a command`
        : `unknown command: ${argv.join(' ')}`;
    process.stderr.write(`${what}\n\n${group ?? help()}\n`);
    return 2;
  }
  const { command, rest } = found;
  // --help runs nothing; wrong arguments are refused before the database is opened.
  if (asksForHelp(rest)) {
    process.stdout.write(`usage: ${command.usage}\n${command.summary}\n`);
    return 0;
  }
  try {
    const args = parseCommandArgs(command, rest);
    command.check?.(args);
  } catch (error) {
    return reportFailure(command, error, io);
  }
  const config = loadConfig();
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr);
  let opened: Awaited<ReturnType<typeof openContext>>;
  try {
    opened = await openContext(config, logger);
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error;
    // A server owns the embedded database: run the command inside it.
    try {
      return await runViaServer(dataDirPaths(config.dataDir).socket, argv, io, process.cwd());
    } catch (connectError) {
      const code = (connectError as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ECONNREFUSED') throw dataFolderBusy(config.dataDir, error.ownerPid);
      throw connectError;
    }
  }
  try {
    return await executeCommand(command, rest, opened.ctx, io, {
      unexpected: (error) => logger.debug({ err: error }, 'the command failed'),
    });
  } finally {
    await opened.ctx.database.close();
    opened.release();
  }
}

/**
 * Runs the command line; resolves to the exit code. Whatever fails is one short message (never a
 * stack or SQL text; LOG_LEVEL=debug logs the error itself) and a non-zero code. A command whose work
 * stopped without settling (a stream that died unnoticed) is reported when the process would end,
 * not taken for success.
 */
export async function main(argv: string[], io: CommandIO = terminalIO()): Promise<number> {
  let settled = false;
  const unsettled = () => {
    if (settled) return;
    io.error('shouhu: the command stopped before it had finished; its work may be incomplete');
    process.exitCode = 1;
  };
  process.once('beforeExit', unsettled);
  try {
    return await runCommandLine(argv, io);
  } catch (error) {
    return reportFailure(null, error, io);
  } finally {
    settled = true;
    process.removeListener('beforeExit', unsettled);
  }
}
