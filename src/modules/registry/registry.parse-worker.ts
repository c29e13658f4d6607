// The parsing half of a registry import, run in a worker thread with its own small heap: the reader,
// row validation, pinyin and the stage's CSV lines. The main thread only copies the lines into the
// stage, so the import's allocation (and the garbage V8 keeps around it) is bounded by the worker's
// limits, and the server's event loop stays free while a file is read. One batch is in flight at a
// time: the worker waits for the main thread to acknowledge a batch before it posts the next.
//
// Messages, worker -> main (ParseMessage); main -> worker: 'ack' after each batch is staged.
import { parentPort, workerData } from 'node:worker_threads';
import type { Message } from '../../platform/errors.ts';
import { parseRegistryFile } from './registry.parse.ts';
import { FileRejected, type FileRejectedReason, type TableSource } from './registry.reader.ts';
import { StageLines } from './registry.import-stage.ts';
import { normalizeIdNumber } from './registry.idnumber.ts';
import { headerOf } from './registry.template.ts';

export interface ParseWorkerData {
  source: TableSource;
  today: string;
  regions: Set<string>;
  batchSize: number;
}

export type ParseMessage =
  | { type: 'headers'; headers: string[]; unknown: string[] }
  | { type: 'batch'; rows: Uint8Array; errors: string; parsed: number }
  | { type: 'end'; parsed: number }
  | { type: 'rejected'; reason: FileRejectedReason; message: Message };

const port = parentPort;
if (!port) throw new Error('registry.parse-worker.ts runs as a worker thread');
const data = workerData as ParseWorkerData;

let unacknowledged = 0;
let wake: (() => void) | null = null;
port.on('message', () => {
  unacknowledged -= 1;
  wake?.();
  wake = null;
});
const post = async (message: ParseMessage) => {
  while (unacknowledged > 0) await new Promise<void>((resolve) => (wake = resolve));
  unacknowledged += 1;
  port.postMessage(message);
};

const ID_HEADER = headerOf('idNumber');

/** The refused row's own ID number, when that cell is valid (a row naming it is told which row to fix). */
function validIdNumber(cell: string | undefined, today: string): string | null {
  if (!cell) return null;
  const result = normalizeIdNumber(cell, today);
  return result.ok ? result.value : null;
}

const encoder = new TextEncoder();
/**
 * A batch's rows go to the main thread as UTF-8 bytes whose buffer is transferred, not copied: a
 * string of a few megabytes would be cloned into the main thread's heap, where V8 keeps such large
 * strings until a full collection, and the server's memory grew by hundreds of megabytes during a
 * large import (docs/PERFORMANCE.md, bench/import).
 */
const postBatch = async (lines: StageLines, parsed: number) => {
  while (unacknowledged > 0) await new Promise<void>((resolve) => (wake = resolve));
  const { rows, errors } = lines.take();
  const bytes = encoder.encode(rows);
  unacknowledged += 1;
  port.postMessage({ type: 'batch', rows: bytes, errors, parsed } satisfies ParseMessage, [bytes.buffer]);
};

try {
  const lines = new StageLines(data.today);
  let parsed = 0;
  for await (const row of parseRegistryFile(data.source, {
    regionExists: (code) => data.regions.has(code),
    today: data.today,
    onHeaders: (info) => port.postMessage({ type: 'headers', ...info } satisfies ParseMessage),
  })) {
    parsed += 1;
    if (row.record) lines.addRecord(row.rowNumber, row.record);
    else lines.addErrors(row.rowNumber, row.errors, validIdNumber(row.raw[ID_HEADER], data.today));
    if (lines.count >= data.batchSize) await postBatch(lines, parsed);
  }
  if (lines.count) await postBatch(lines, parsed);
  await post({ type: 'end', parsed });
} catch (error) {
  if (!(error instanceof FileRejected)) throw error;
  port.postMessage({
    type: 'rejected',
    reason: error.reason,
    message: error.userMessage,
  } satisfies ParseMessage);
}
port.close();
