// PostgreSQL's text form of a row value (`row::text`, record_out), one row a line, read back in
// JavaScript. Bulk reads aggregate their rows this way (`string_agg(x::text, E'\n')`): PostgreSQL writes
// a record with the cached output function of each column, which on PGlite's WebAssembly costs about
// two thirds of building the same rows as JSON arrays (json_build_array looks up every argument's type
// on every call). docs/DECISIONS.md "Group evaluation: rows read as record text".
//
// The form: `(f1,f2,...)`. A NULL field is empty; any other value is written as it is, or in double
// quotes when it is empty or holds a double quote, a backslash, a parenthesis, a comma or white space
// (inside the quotes `"` is doubled and `\` is escaped with `\`). Quoting makes a line break inside a
// value safe: lines are split by the parser, not by a search for "\n".

/** The fields of each record in `text` (records separated by "\n"), as text; null for a NULL field. */
export function parseRecordLines(text: string): (string | null)[][] {
  if (text === '') return [];
  // Without a quote anywhere no field is quoted, so no field holds a comma, a parenthesis or a line break:
  // the native split reads it (most batches: names and codes need no quoting).
  if (!text.includes('"')) return text.split('\n').map(unquotedRecord);
  const rows: (string | null)[][] = [];
  const n = text.length;
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`record text: ${what} at offset ${i}`);
  };
  while (i < n) {
    if (text.charCodeAt(i) !== 40 /* ( */) fail('expected "("');
    i++;
    const fields: (string | null)[] = [];
    for (;;) {
      if (text.charCodeAt(i) === 34 /* " */) {
        i++;
        let value = '';
        for (;;) {
          // Copy the run up to the next quote or backslash in one slice.
          let j = i;
          while (j < n) {
            const c = text.charCodeAt(j);
            if (c === 34 || c === 92) break;
            j++;
          }
          if (j >= n) fail('unterminated quoted field');
          value += text.slice(i, j);
          i = j;
          if (text.charCodeAt(i) === 92 /* \ */) {
            if (i + 1 >= n) fail('unterminated quoted field');
            value += text[i + 1];
            i += 2;
          } else if (text.charCodeAt(i + 1) === 34) {
            value += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        }
        fields.push(value);
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === 44 /* , */ || c === 41 /* ) */) break;
          j++;
        }
        if (j >= n) fail('unterminated record');
        fields.push(j === i ? null : text.slice(i, j));
        i = j;
      }
      const c = text.charCodeAt(i);
      i++;
      if (c === 44) continue;
      if (c === 41) break;
      i--;
      fail('expected "," or ")"');
    }
    rows.push(fields);
    if (i < n) {
      if (text.charCodeAt(i) !== 10 /* \n */) fail('expected a line break');
      i++;
    }
  }
  return rows;
}

function unquotedRecord(line: string): (string | null)[] {
  if (line.charCodeAt(0) !== 40 || line.charCodeAt(line.length - 1) !== 41)
    throw new Error(
      `record text: expected a record in parentheses, got ${JSON.stringify(line.slice(0, 40))}`,
    );
  return line
    .slice(1, -1)
    .split(',')
    .map((field) => (field === '' ? null : field));
}

const DAY_MS = 86_400_000;
// Day numbers repeat (birthdays of a county, the same few link dates): each is turned into text once.
const isoOfDay = new Map<number, string>();

/** An ISO date from a day number (`date - DATE '1970-01-01'`, an integer in any DateStyle). */
export function isoFromDayNumber(days: number): string {
  let iso = isoOfDay.get(days);
  if (iso === undefined) {
    if (isoOfDay.size >= 100_000) isoOfDay.clear();
    iso = new Date(days * DAY_MS).toISOString().slice(0, 10);
    isoOfDay.set(days, iso);
  }
  return iso;
}

/** isoFromDayNumber of a record field that may be NULL. */
export function dayField(field: string | null | undefined): string | null {
  return field === null || field === undefined ? null : isoFromDayNumber(Number(field));
}
