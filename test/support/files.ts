// Scratch files for tests: a folder of numbered files, and the registry template as CSV text.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEMPLATE_HEADERS } from '../../src/modules/registry/registry.template.ts';

/** A scratch folder (made by `open`, removed by `close`) whose files are numbered in write order. */
export function scratchFolder(prefix: string) {
  let dir = '';
  let files = 0;
  return {
    open: () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    },
    close: () => fs.rmSync(dir, { recursive: true, force: true }),
    path: (name: string) => path.join(dir, name),
    /** Writes the content as a new file (`<n>-<name>`) and returns its path. */
    fileOf: (name: string, content: Buffer | string): string => {
      files += 1;
      const file = path.join(dir, `${files}-${name}`);
      fs.writeFileSync(file, content);
      return file;
    },
  };
}

/** The registry template as CSV: the header row, then each row's cells by header (missing ones empty). */
export const templateCsv = (rows: readonly Record<string, string>[]): string =>
  [
    TEMPLATE_HEADERS.join(','),
    ...rows.map((row) => TEMPLATE_HEADERS.map((h) => row[h] ?? '').join(',')),
  ].join('\r\n') + '\r\n';
