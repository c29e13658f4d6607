// Structured logs (pino, JSON lines). Personal data never reaches the log: every finished line
// passes through redactSensitive (ID numbers and mobile numbers anywhere in the text), and values
// under secret-looking keys are replaced before serialisation. Request bodies are never logged.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { redactObject, redactSensitive } from './redact.ts';

export type { Logger };

/** A destination that redacts each line before passing it on. */
export function redactingStream(target: { write(chunk: string): unknown }): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      target.write(redactSensitive(typeof chunk === 'string' ? chunk : chunk.toString('utf8')));
      callback();
    },
  });
}

export function createLogger(
  level: string,
  destination: { write(chunk: string): unknown } = process.stdout,
): Logger {
  return pino(
    {
      level,
      base: { service: 'shouhu' },
      formatters: { log: (object) => redactObject(object) as Record<string, unknown> },
      serializers: {
        req: (req: {
          id?: string;
          method?: string;
          url?: string;
          ip?: string;
          raw?: { url?: string; method?: string };
          socket?: { remoteAddress?: string };
        }) => ({
          id: req.id,
          method: req.method ?? req.raw?.method,
          url: redactSensitive(String(req.url ?? req.raw?.url ?? '')),
          ip: req.ip ?? req.socket?.remoteAddress,
        }),
        res: (res: { statusCode?: number; raw?: { statusCode?: number } }) => ({
          statusCode: res.statusCode ?? res.raw?.statusCode,
        }),
      },
    },
    redactingStream(destination),
  );
}
