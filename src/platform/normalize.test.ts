// node:test's test() and describe() return promises that the runner itself tracks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  excelSerialToDate,
  maskPhone,
  normalizeCell,
  normalizeName,
  normalizePhone,
  parseDate,
  parseYesNo,
  toHalfWidth,
  unwrapCell,
} from './normalize.ts';

function dateOf(value: unknown): string {
  const r = parseDate(value);
  assert.equal(r.ok, true, `expected ${String(value)} to parse, got ${JSON.stringify(r)}`);
  return r.ok ? r.value : '';
}

function dateError(value: unknown): { zh: string; en: string } {
  const r = parseDate(value);
  assert.equal(r.ok, false, `expected ${String(value)} to be rejected, got ${JSON.stringify(r)}`);
  assert.ok(!r.ok);
  return r.message;
}

describe('toHalfWidth', () => {
  test('full-width digits, letters and punctuation become ASCII', () => {
    assert.equal(toHalfWidth('０１２３４５６７８９'), '0123456789');
    assert.equal(toHalfWidth('ＡＢＣｘｙｚＸ'), 'ABCxyzX');
    assert.equal(toHalfWidth('（１）：－／．～！'), '(1):-/.~!');
  });

  test('the ideographic space becomes a space; Chinese text is untouched', () => {
    assert.equal(toHalfWidth('张\u3000三'), '张 三');
    assert.equal(toHalfWidth('兰考县南彰镇，是'), '兰考县南彰镇,是');
    assert.equal(toHalfWidth('年月日、。'), '年月日、。');
  });
});

describe('normalizeCell', () => {
  test('trims, makes half-width and collapses inner white space', () => {
    assert.equal(normalizeCell('  张三  '), '张三');
    assert.equal(normalizeCell('\u3000南彰镇\u3000\u3000南彰村\t\n'), '南彰镇 南彰村');
    assert.equal(normalizeCell('ＡＢＣ　１２３'), 'ABC 123');
    assert.equal(normalizeCell('a\u00A0\u00A0b'), 'a b');
  });

  test('empty and blank values are null', () => {
    assert.equal(normalizeCell(null), null);
    assert.equal(normalizeCell(undefined), null);
    assert.equal(normalizeCell(''), null);
    assert.equal(normalizeCell(' \u3000\t'), null);
    assert.equal(normalizeCell('\uFEFF\u200B'), null);
  });

  test('numbers, booleans and dates become text', () => {
    assert.equal(normalizeCell(42), '42');
    assert.equal(normalizeCell(true), 'true');
    assert.equal(normalizeCell(new Date(Date.UTC(2026, 10, 29))), '2026-11-29');
    assert.equal(normalizeCell(Number.NaN), null);
  });

  test('exceljs rich text, hyperlink, formula and error cells', () => {
    assert.equal(normalizeCell({ richText: [{ text: '南彰' }, { font: {}, text: '村 ' }] }), '南彰村');
    assert.equal(normalizeCell({ text: '链接', hyperlink: 'https://example.org' }), '链接');
    assert.equal(normalizeCell({ formula: 'A1&B1', result: ' 张三 ' }), '张三');
    assert.equal(normalizeCell({ formula: 'A1' }), null);
    assert.equal(normalizeCell({ error: '#N/A' }), '#N/A');
  });

  test('unwrapCell leaves plain values alone', () => {
    const d = new Date();
    assert.equal(unwrapCell(d), d);
    assert.equal(unwrapCell(5), 5);
    assert.equal(unwrapCell({ sharedFormula: 'A1', result: 7 }), 7);
  });
});

describe('parseDate', () => {
  test('the four written forms', () => {
    assert.equal(dateOf('2026-11-29'), '2026-11-29');
    assert.equal(dateOf('2026/11/29'), '2026-11-29');
    assert.equal(dateOf('2026.11.29'), '2026-11-29');
    assert.equal(dateOf('2026年11月29日'), '2026-11-29');
  });

  test('single-digit months and days', () => {
    assert.equal(dateOf('2026-1-5'), '2026-01-05');
    assert.equal(dateOf('2026/1/5'), '2026-01-05');
    assert.equal(dateOf('2026.1.05'), '2026-01-05');
    assert.equal(dateOf('2026年1月5日'), '2026-01-05');
  });

  test('full-width digits and surrounding white space', () => {
    assert.equal(dateOf('２０２６－１１－２９'), '2026-11-29');
    assert.equal(dateOf('２０２６年１１月２９日'), '2026-11-29');
    assert.equal(dateOf('  2026/11/29\u3000'), '2026-11-29');
  });

  test('a date written with a time of day keeps its date', () => {
    assert.equal(dateOf('2026/11/29 0:00'), '2026-11-29');
    assert.equal(dateOf('2026-11-29 00:00:00'), '2026-11-29');
  });

  test('a JS Date (exceljs date cell) gives its UTC calendar date', () => {
    assert.equal(dateOf(new Date(Date.UTC(2026, 10, 29))), '2026-11-29');
    assert.equal(dateOf(new Date('2008-02-29T00:00:00.000Z')), '2008-02-29');
    // Floating-point error a millisecond short of midnight still means the next day.
    assert.equal(dateOf(new Date(Date.UTC(2023, 2, 15) - 1)), '2023-03-15');
    dateError(new Date(Number.NaN));
  });

  test('Excel serial numbers in the 1900 date system', () => {
    assert.equal(dateOf(1), '1900-01-01');
    assert.equal(dateOf(59), '1900-02-28');
    assert.equal(dateOf(61), '1900-03-01');
    assert.equal(dateOf(45000), '2023-03-15');
    assert.equal(dateOf(45000.75), '2023-03-15');
    assert.equal(dateOf(2958465), '9999-12-31');
  });

  test('Excel serial 60 is the 1900-02-29 that never existed', () => {
    assert.match(dateError(60).en, /1900-02-29/);
    assert.equal(excelSerialToDate(60), null);
  });

  test('serials out of range are rejected', () => {
    dateError(0);
    dateError(-5);
    dateError(2958466);
    dateError(Number.POSITIVE_INFINITY);
  });

  test('invalid calendar dates are rejected', () => {
    assert.match(dateError('2026-02-30').en, /not a calendar date/);
    dateError('2023-02-29');
    dateError('2026-13-01');
    dateError('2026年4月31日');
    assert.equal(dateOf('2024-02-29'), '2024-02-29');
  });

  test('other forms are rejected with a message naming the accepted forms', () => {
    for (const bad of [
      '29/11/2026',
      '20261129x',
      '2026-11',
      '11/29/2026',
      'yesterday',
      '2026-11/29',
      '0026-11-29',
    ]) {
      const m = dateError(bad);
      assert.match(m.en, /2026-11-29, 2026\/11\/29, 2026\.11\.29, 2026年11月29日/, bad);
      assert.match(m.zh, /2026年11月29日/, bad);
    }
  });

  test('empty is an error', () => {
    dateError(null);
    dateError('   ');
  });
});

describe('parseYesNo', () => {
  test('yes forms', () => {
    for (const v of ['是', 'Y', 'y', 'yes', 'YES', '1', 'true', 'TRUE', ' 是 ', 1, true]) {
      assert.deepEqual(parseYesNo(v), { ok: true, value: true }, String(v));
    }
  });

  test('no forms', () => {
    for (const v of ['否', 'N', 'n', 'no', 'No', '0', 'false', 0, false]) {
      assert.deepEqual(parseYesNo(v), { ok: true, value: false }, String(v));
    }
  });

  test('empty is null', () => {
    assert.deepEqual(parseYesNo(null), { ok: true, value: null });
    assert.deepEqual(parseYesNo(''), { ok: true, value: null });
    assert.deepEqual(parseYesNo('  '), { ok: true, value: null });
  });

  test('anything else is an error naming the value', () => {
    for (const v of ['可能', 'maybe', '2', 'yes!']) {
      const r = parseYesNo(v);
      assert.equal(r.ok, false, v);
      if (!r.ok) assert.ok(r.message.zh.includes(v) && r.message.en.includes(v));
    }
  });
});

describe('normalizePhone', () => {
  const mobile = (raw: unknown) =>
    assert.deepEqual(normalizePhone(raw), { ok: true, value: '13812345678', kind: 'mobile' });
  const landline = (raw: unknown, value: string) =>
    assert.deepEqual(normalizePhone(raw), { ok: true, value, kind: 'landline' }, String(raw));
  const invalid = (raw: unknown) => {
    const r = normalizePhone(raw);
    assert.equal(r.ok, false, `${String(raw)} → ${JSON.stringify(r)}`);
  };

  test('mobiles with prefixes, spaces and dashes', () => {
    mobile('13812345678');
    mobile(' 138 1234 5678 ');
    mobile('138-1234-5678');
    mobile('+8613812345678');
    mobile('+86 138 1234 5678');
    mobile('+86-13812345678');
    mobile('8613812345678');
    mobile('008613812345678');
    mobile('１３８１２３４５６７８');
    mobile(13812345678);
  });

  test('every mobile prefix 13-19', () => {
    for (const d of [3, 4, 5, 6, 7, 8, 9]) {
      const r = normalizePhone(`1${d}812345678`);
      assert.equal(r.ok && r.kind, 'mobile');
    }
  });

  test('landlines with and without dash', () => {
    landline('0371-12345678', '0371-12345678');
    landline('037112345678', '0371-12345678');
    landline('0371 6123456', '0371-6123456');
    landline('010-12345678', '010-12345678');
    landline('01012345678', '010-12345678');
    landline('02112345678', '021-12345678');
    landline('(0371)12345678', '0371-12345678');
    landline('（０３７１）１２３４５６７８', '0371-12345678');
    landline('010-1234-5678', '010-12345678');
    landline('+86 371 1234 5678', '0371-12345678');
  });

  test('landline extensions', () => {
    landline('0371-12345678-123', '0371-12345678-123');
    landline('0371-12345678转123', '0371-12345678-123');
    landline('0371-12345678 分机 8', '0371-12345678-8');
    landline('037112345678 ext. 45', '0371-12345678-45');
    landline('0371-12345678#9', '0371-12345678-9');
  });

  test('the normalised form reads back unchanged', () => {
    for (const v of ['13812345678', '0371-12345678', '010-1234567', '0371-12345678-123']) {
      const r = normalizePhone(v);
      assert.equal(r.ok && r.value, v);
    }
  });

  test('rejections', () => {
    invalid(null);
    invalid('');
    invalid('1381234567'); // 10 digits
    invalid('138123456789'); // 12 digits
    invalid('12812345678'); // 12x is not a mobile prefix
    invalid('23812345678');
    invalid('12345678'); // no area code
    invalid('0371-123456'); // 6-digit number
    invalid('0371-123456789'); // 9-digit number
    invalid('0371-01234567'); // number starting 0
    invalid('03-12345678'); // area code too short
    invalid('13812345678转1'); // mobiles have no extension
    invalid('13812345678/13987654321');
    invalid('电话');
    const r = normalizePhone('12345');
    assert.ok(!r.ok && r.message.en.includes('0371-12345678'));
  });
});

describe('maskPhone', () => {
  test('mobile keeps the first three and last four digits', () => {
    assert.equal(maskPhone('13812345678'), '138****5678');
    assert.equal(maskPhone('+86 138 1234 5678'), '138****5678');
  });

  test('landline keeps the area code and last four digits', () => {
    assert.equal(maskPhone('0371-12345678'), '0371-****5678');
    assert.equal(maskPhone('010-1234567'), '010-***4567');
    assert.equal(maskPhone('0371-12345678-123'), '0371-****5678');
  });

  test('unrecognised text is still masked', () => {
    assert.equal(maskPhone('123456789'), '123**6789');
    assert.equal(maskPhone('12345'), '*****');
  });
});

describe('normalizeName', () => {
  test('spaces padding a Chinese name are dropped, full-width or not', () => {
    assert.equal(normalizeName('张\u3000伟'), '张伟');
    assert.equal(normalizeName(' 李  芳 '), '李芳');
    assert.equal(normalizeName('𠮷 田'), '𠮷田');
  });

  test('the separator of a transliterated name becomes the middle dot U+00B7', () => {
    for (const written of [
      '阿依古丽•买买提',
      '阿依古丽・买买提',
      '阿依古丽．买买提',
      '阿依古丽.买买提',
      '阿依古丽 ‧ 买买提',
    ])
      assert.equal(normalizeName(written), '阿依古丽·买买提', written);
    assert.equal(normalizeName('阿卜杜热合曼·买买提·艾力'), '阿卜杜热合曼·买买提·艾力');
  });

  test('a name in Latin letters keeps its spaces; empty is null', () => {
    assert.equal(normalizeName(' Maria  Wang '), 'Maria Wang');
    assert.equal(normalizeName('\u3000'), null);
    assert.equal(normalizeName(null), null);
  });
});
