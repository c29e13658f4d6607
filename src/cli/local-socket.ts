// CLI commands while the server runs: the server that owns the embedded database listens on a
// Unix socket in the data folder (mode 0600, so only the account that owns the data can use it,
// the same account that could open the folder directly). The CLI sends its arguments; the server
// runs the same command function against its own database connection and streams the output,
// progress and exit code back as JSON lines.
import fs from 'node:fs';
import http from 'node:http';
import type { AppContext } from '../platform/context.ts';
import { executeCommand, reportFailure, UsageError, type CommandIO, type CommandSpec } from './command.ts';
import { findCommand } from './commands.ts';

type Event =
  | { type: 'out'; line: string }
  | { type: 'err'; line: string }
  | { type: 'progress'; done: number; total: number | null; message: string }
  | { type: 'exit'; code: number };

export async function startLocalCommandServer(socketPath: string, ctx: AppContext): Promise<http.Server> {
  fs.rmSync(socketPath, { force: true });
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/cli') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const send = (event: Event) => res.write(JSON.stringify(event) + '\n');
      const io: CommandIO = {
        print: (line) => send({ type: 'out', line }),
        error: (line) => send({ type: 'err', line }),
        progress: (done, total, message) => send({ type: 'progress', done, total, message }),
      };
      void (async () => {
        let code: number;
        try {
          const request = JSON.parse(body) as { argv: string[]; cwd?: string };
          const found = findCommand(request.argv);
          if (!found) throw new UsageError(`unknown command: ${request.argv.join(' ')}`);
          code = await executeCommand(found.command, found.rest, ctx, io, {
            // Relative paths (import FILE, --out FILE) mean the caller's folder, not the server's.
            ...(typeof request.cwd === 'string' ? { cwd: request.cwd } : {}),
            unexpected: (error) => ctx.logger.error({ err: error }, 'a command on the local socket failed'),
          });
        } catch (error) {
          code = reportFailure(null, error, io);
        }
        send({ type: 'exit', code });
        res.end();
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  server.unref();
  return server;
}

/**
 * Runs `argv` inside the server that owns the data folder; resolves to the exit code. `cwd` is the
 * folder relative paths in argv are read against. Rejects with the connection's error (ENOENT,
 * ECONNREFUSED) when nothing listens on the socket.
 */
export function runViaServer(
  socketPath: string,
  argv: string[],
  io: CommandIO,
  cwd: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: '/cli', method: 'POST' }, (res) => {
      let buffer = '';
      let exit: number | null = null;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          const event = JSON.parse(line) as Event;
          switch (event.type) {
            case 'out':
              io.print(event.line);
              break;
            case 'err':
              io.error(event.line);
              break;
            case 'progress':
              io.progress(event.done, event.total, event.message);
              break;
            case 'exit':
              exit = event.code;
              break;
          }
        }
      });
      res.on('end', () => {
        if (exit === null) io.error('the server ended the command without finishing it (see its log)');
        resolve(exit ?? 1);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify({ argv, cwd }));
  });
}

export type { CommandSpec };
