// The `shouhu` command line. Every command runs against the configured database; in embedded mode,
// when a server already owns the data folder, the command is executed inside that server through
// the folder's local socket, so operators can import, create tokens or run payrolls while the
// service runs.
import { loadConfig } from '../platform/config.ts';
import { dataDirPaths } from '../platform/embedded.ts';
import { createLogger } from '../platform/logging.ts';
import { DataDirInUseError, openContext, startServer } from '../server.ts';
import { parseArgs, UsageError, type CommandIO, type CommandSpec } from './command.ts';
import { allCommands, findCommand } from './commands.ts';
import { runViaServer } from './local-socket.ts';
import { progressPrinter } from './progress.ts';
import { prepareDemo } from './demo.ts';

const SERVE_USAGE = 'shouhu serve [--demo | --no-demo] [--port N]';
const SERVE_OPTIONS = new Set(['demo', 'no-demo', 'port']);

function help(): string {
  const lines = ['usage: shouhu <command> [options]', '', 'commands:'];
  lines.push(`  ${SERVE_USAGE.replace(/^shouhu /, '').padEnd(40)} start the server (http://localhost:3000)`);
  for (const c of allCommands()) lines.push(`  ${c.usage.replace(/^shouhu /, '').padEnd(40)} ${c.summary}`);
  return lines.join('\n');
}

/** The options a command's usage names (--region, --dry-run): the only ones it takes. */
function optionsOf(command: CommandSpec): Set<string> {
  return new Set([...command.usage.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1] ?? ''));
}

/**
 * `--help` or `-h` after a command prints its usage and runs nothing; an option the command does not
 * take (a typo: --person for --persons) is refused before anything runs, rather than ignored.
 */
function checkOptions(command: CommandSpec, rest: string[]): number | null {
  const args = parseArgs(rest);
  if ('help' in args.flags || rest.includes('-h')) {
    process.stdout.write(`usage: ${command.usage}\n${command.summary}\n`);
    return 0;
  }
  const known = optionsOf(command);
  const unknown = Object.keys(args.flags).filter((flag) => !known.has(flag));
  if (unknown.length === 0) return null;
  const named = unknown.map((flag) => `--${flag}`).join(', ');
  process.stderr.write(
    `unknown option ${named} for 'shouhu ${command.path.join(' ')}'\nusage: ${command.usage}\n`,
  );
  return 2;
}

function terminalIO(): CommandIO {
  const progress = progressPrinter();
  return {
    print: (line) => process.stdout.write(line + '\n'),
    error: (line) => process.stderr.write(line + '\n'),
    progress,
    ...(process.stdin.isTTY ? { prompt: promptOnTerminal } : {}),
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

async function serve(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const demo = args.flags.demo === true;
  const config = loadConfig(process.env, {
    ...(args.flags.port ? { port: Number(args.flags.port) } : {}),
    demoMode: demo,
  });
  const logger = createLogger(config.logLevel);
  const io = terminalIO();
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

export async function main(argv: string[]): Promise<number> {
  if (!argv.length || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(help() + '\n');
    return argv.length ? 0 : 2;
  }
  if (argv[0] === 'serve') {
    const rest = argv.slice(1);
    const unknown = Object.keys(parseArgs(rest).flags).filter((f) => !SERVE_OPTIONS.has(f));
    if (rest.includes('-h') || unknown.includes('help')) {
      process.stdout.write(`usage: ${SERVE_USAGE}\n`);
      return 0;
    }
    if (unknown.length > 0) {
      process.stderr.write(
        `unknown option --${unknown.join(', --')} for 'shouhu serve'\nusage: ${SERVE_USAGE}\n`,
      );
      return 2;
    }
    return serve(rest);
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`unknown command: ${argv.join(' ')}\n\n${help()}\n`);
    return 2;
  }
  const refused = checkOptions(found.command, found.rest);
  if (refused !== null) return refused;
  const config = loadConfig();
  const io = terminalIO();
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr);
  let opened: Awaited<ReturnType<typeof openContext>>;
  try {
    opened = await openContext(config, logger);
  } catch (error) {
    if (error instanceof DataDirInUseError) {
      // A server owns the embedded database: run the command inside it.
      return runViaServer(dataDirPaths(config.dataDir).socket, argv, io);
    }
    throw error;
  }
  try {
    return await found.command.run(parseArgs(found.rest), opened.ctx, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.error(error.message);
      return 2;
    }
    throw error;
  } finally {
    await opened.ctx.database.close();
    opened.release();
  }
}
