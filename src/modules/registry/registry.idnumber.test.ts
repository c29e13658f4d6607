// node:test's test() and describe() return promises that the runner itself tracks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkIdAgainst,
  computeCheckCharacter,
  idTail,
  makeIdNumber,
  maskIdNumber,
  normalizeIdNumber,
} from './registry.idnumber.ts';
import type { IdNumberErrorCode, IdNumberResult } from './registry.idnumber.ts';

const TODAY = '2026-11-29';

function valid(raw: unknown, today = TODAY) {
  const r = normalizeIdNumber(raw, today);
  assert.equal(r.ok, true, `expected ${String(raw)} to be valid, got ${JSON.stringify(r)}`);
  if (!r.ok) throw new Error('unreachable');
  return r;
}

function rejected(raw: unknown, reason: IdNumberErrorCode, today = TODAY) {
  const r = normalizeIdNumber(raw, today);
  assert.equal(r.ok, false, `expected ${String(raw)} to be rejected, got ${JSON.stringify(r)}`);
  if (r.ok) throw new Error('unreachable');
  assert.equal(r.reason, reason, `${String(raw)}: ${r.message.en}`);
  assert.ok(r.message.zh.length > 0 && r.message.en.length > 0, 'both languages carry a message');
  return r;
}

describe('computeCheckCharacter', () => {
  test('the standard example 11010519491231002X has check character X', () => {
    assert.equal(computeCheckCharacter('11010519491231002'), 'X');
  });

  test('digit check characters', () => {
    assert.equal(computeCheckCharacter('41022520080101123'), '8');
    assert.equal(computeCheckCharacter('11010519491231001'), '1');
    assert.equal(computeCheckCharacter('11010519491231000'), '3');
    assert.equal(computeCheckCharacter('44030419991231123'), '7');
  });

  test('rejects anything but 17 digits', () => {
    assert.throws(() => computeCheckCharacter('1101051949123100'), RangeError);
    assert.throws(() => computeCheckCharacter('1101051949123100X'), RangeError);
  });
});

describe('normalizeIdNumber: valid numbers', () => {
  test('the standard example is a woman born 1949-12-31', () => {
    assert.deepEqual(normalizeIdNumber('11010519491231002X', TODAY), {
      ok: true,
      value: '11010519491231002X',
      birthDate: '1949-12-31',
      sex: 2,
      upgradedFrom15: false,
    });
  });

  test('an odd 17th digit is a man', () => {
    const r = valid('410225200801011238');
    assert.equal(r.sex, 1);
    assert.equal(r.birthDate, '2008-01-01');
  });

  test('lower-case x becomes X', () => {
    assert.equal(valid('11010519491231002x').value, '11010519491231002X');
  });

  test('full-width digits and letters become ASCII', () => {
    assert.equal(valid('１１０１０５１９４９１２３１００２Ｘ').value, '11010519491231002X');
    assert.equal(valid('１１０１０５１９４９１２３１００２ｘ').value, '11010519491231002X');
  });

  test('surrounding and inner white space (including ideographic space) is removed', () => {
    assert.equal(valid('  110105 19491231 002X\t').value, '11010519491231002X');
    assert.equal(valid('110105\u300019491231002X\u3000').value, '11010519491231002X');
    assert.equal(valid('\uFEFF11010519491231002X\u200B').value, '11010519491231002X');
  });

  test('dashes grouping the digits are removed like spaces', () => {
    assert.equal(valid('110105-19491231-002X').value, '11010519491231002X');
    assert.equal(valid('110105－19491231－002x').value, '11010519491231002X');
    assert.equal(valid('110105–19491231–002X').value, '11010519491231002X');
    assert.equal(valid('110105 - 19491231 - 002X').value, '11010519491231002X');
    // The check character still proves every digit.
    rejected('110105-19491231-0021', 'BAD_CHECK_CHARACTER');
  });

  test("a leading apostrophe (Excel's force-text mark) is ignored", () => {
    assert.equal(valid("'11010519491231002X").value, '11010519491231002X');
  });

  test('exceljs rich-text cells are read as their text', () => {
    assert.equal(
      valid({ richText: [{ text: '110105' }, { text: '19491231002X' }] }).value,
      '11010519491231002X',
    );
  });

  test('a 15-digit legacy number is upgraded to 18 characters', () => {
    assert.deepEqual(normalizeIdNumber('110105491231002', TODAY), {
      ok: true,
      value: '11010519491231002X',
      birthDate: '1949-12-31',
      sex: 2,
      upgradedFrom15: true,
    });
    const man = valid('110105491231001');
    assert.equal(man.value, '110105194912310011');
    assert.equal(man.sex, 1);
  });

  test('a birth date of today is accepted, as is 1900-01-01', () => {
    assert.equal(valid(makeIdNumber('410225', TODAY, 1)).birthDate, TODAY);
    assert.equal(valid('410225190001010011').birthDate, '1900-01-01');
  });

  test('a 29 February in a leap year is a calendar date', () => {
    assert.equal(valid('410225200802290021').birthDate, '2008-02-29');
  });

  test('today defaults to the current date', () => {
    assert.equal(normalizeIdNumber('11010519491231002X').ok, true);
    assert.equal(normalizeIdNumber(makeIdNumber('410225', '2999-01-01', 1)).ok, false);
  });
});

describe('normalizeIdNumber: rejections', () => {
  test('empty values', () => {
    rejected(null, 'EMPTY');
    rejected(undefined, 'EMPTY');
    rejected('', 'EMPTY');
    rejected('   \u3000', 'EMPTY');
  });

  test('a JS number (numeric Excel cell) is an Excel float whose digits are lost', () => {
    // What exceljs hands over for 11010519491231002X in a numeric cell: 15 significant digits.
    const r = rejected(110105194912310000, 'EXCEL_FLOAT');
    assert.match(r.message.zh, /文本/);
    assert.match(r.message.en, /Text/);
    assert.match(r.message.en, /lost/);
    rejected(Number('410225200801011238'), 'EXCEL_FLOAT');
    rejected(4102252008010112, 'EXCEL_FLOAT');
    rejected(Number('41022520080101123'), 'EXCEL_FLOAT');
  });

  test('a 15-digit legacy number in a numeric cell has lost nothing: it is upgraded like text', () => {
    // Excel keeps 15 significant digits, exactly what an old number has.
    assert.equal(valid(110105491231002).value, '11010519491231002X');
    assert.equal(valid({ formula: 'A1', result: 110105491231001 }).value, '110105194912310011');
    rejected(11010549123100, 'BAD_LENGTH');
  });

  test('scientific notation text is an Excel float', () => {
    const r = rejected('1.10105E+17', 'EXCEL_FLOAT');
    assert.match(r.message.en, /1\.10105E\+17/);
    rejected('4.10225E+17', 'EXCEL_FLOAT');
    rejected('4.10225e17', 'EXCEL_FLOAT');
    rejected('４.１０２２５Ｅ＋１７', 'EXCEL_FLOAT');
  });

  test('decimal and thousands-grouped text is an Excel float', () => {
    rejected('410225200801011000.0', 'EXCEL_FLOAT');
    rejected('410,225,200,801,011,000', 'EXCEL_FLOAT');
  });

  test('an 18-digit number ending in 000 with a bad check character hints at Excel', () => {
    const r = rejected('110105194912310000', 'BAD_CHECK_CHARACTER');
    assert.match(r.message.en, /Excel/);
  });

  test('wrong lengths say how many characters were seen', () => {
    assert.match(rejected('4102252008010112', 'BAD_LENGTH').message.en, /16/);
    assert.match(rejected('41022520080101123', 'BAD_LENGTH').message.en, /17/);
    assert.match(rejected('4102252008010112345', 'BAD_LENGTH').message.zh, /19位/);
    rejected('410225', 'BAD_LENGTH');
  });

  test('letters, punctuation and a misplaced X are bad characters', () => {
    assert.match(rejected('11010519491231002Y', 'BAD_CHARACTERS').message.en, /Y/);
    rejected('110105-19491231-002', 'BAD_LENGTH');
    rejected('-11010519491231002X', 'BAD_CHARACTERS');
    rejected('11010519491231002X-', 'BAD_CHARACTERS');
    rejected('1101051949123100X2', 'BAD_CHARACTERS');
    rejected('11010549123100X', 'BAD_CHARACTERS');
    rejected({ some: 'object' }, 'BAD_CHARACTERS');
  });

  test('an address code starting with 0 is rejected', () => {
    rejected('010105194912310021', 'BAD_ADDRESS_CODE');
  });

  test('2023-02-29 is not a calendar date', () => {
    const first17 = '41022520230229002';
    const r = rejected(first17 + computeCheckCharacter(first17), 'BAD_BIRTH_DATE');
    assert.match(r.message.en, /20230229/);
    rejected('410225200813010021', 'BAD_BIRTH_DATE');
    rejected('410225200800100021', 'BAD_BIRTH_DATE');
    rejected('410225080230002', 'BAD_BIRTH_DATE');
  });

  test('a birth date after today is rejected', () => {
    const id = makeIdNumber('410225', '2026-11-30', 2);
    rejected(id, 'FUTURE_BIRTH_DATE', '2026-11-29');
    assert.equal(normalizeIdNumber(id, '2026-11-30').ok, true);
  });

  test('a birth date before 1900 is rejected', () => {
    const first17 = '11010518991231002';
    rejected(first17 + computeCheckCharacter(first17), 'BIRTH_BEFORE_1900');
  });

  test('a wrong check character names the expected one', () => {
    const r = rejected('41022520080101123X', 'BAD_CHECK_CHARACTER');
    assert.match(r.message.en, /should be 8/);
    assert.match(r.message.zh, /应为 8/);
    rejected('110105194912310029', 'BAD_CHECK_CHARACTER');
  });

  test('messages do not repeat the full ID number', () => {
    const r = rejected('41022520080101123X', 'BAD_CHECK_CHARACTER');
    assert.doesNotMatch(r.message.zh + r.message.en, /41022520080101123X/);
  });
});

describe('checkIdAgainst', () => {
  const id = normalizeIdNumber('11010519491231002X', TODAY);

  test('agreeing or absent values give no mismatch', () => {
    assert.deepEqual(checkIdAgainst(id, { sex: 2, birthDate: '1949-12-31' }), []);
    assert.deepEqual(checkIdAgainst(id, {}), []);
    assert.deepEqual(checkIdAgainst(id, { sex: null, birthDate: null }), []);
  });

  test('a different sex is reported', () => {
    const m = checkIdAgainst(id, { sex: 1 });
    assert.equal(m.length, 1);
    assert.equal(m[0]?.field, 'sex');
    assert.match(m[0]?.message.zh ?? '', /男/);
    assert.match(m[0]?.message.en ?? '', /female/);
  });

  test('a different birth date is reported with both dates', () => {
    const m = checkIdAgainst(id, { birthDate: '1949-12-30' });
    assert.deepEqual(
      m.map((x) => x.field),
      ['birthDate'],
    );
    assert.match(m[0]?.message.en ?? '', /1949-12-30.*1949-12-31/);
  });

  test('both mismatches at once', () => {
    assert.deepEqual(
      checkIdAgainst(id, { sex: 1, birthDate: '1950-01-01' }).map((x) => x.field),
      ['sex', 'birthDate'],
    );
  });

  test('an invalid number gives nothing to compare', () => {
    const bad: IdNumberResult = normalizeIdNumber('123', TODAY);
    assert.deepEqual(checkIdAgainst(bad, { sex: 1, birthDate: '2000-01-01' }), []);
  });
});

describe('masking and tails', () => {
  test('maskIdNumber keeps the first four characters only (nothing of the birth date, sequence or check character)', () => {
    assert.equal(maskIdNumber('41022520080101123X'), '4102**************');
    assert.equal(maskIdNumber('110105491231002'), '1101***********');
  });

  test('maskIdNumber hides a short value entirely', () => {
    assert.equal(maskIdNumber('12345678'), '********');
    assert.equal(maskIdNumber(''), '');
  });

  test('idTail gives the last six characters with an upper-case X', () => {
    assert.equal(idTail('41022520080101123X'), '01123X');
    assert.equal(idTail('11010519491231002x'), '31002X');
  });
});

describe('makeIdNumber', () => {
  test('builds a valid number that reads back the same', () => {
    const id = makeIdNumber('410225', '2008-01-01', 123);
    assert.equal(id, '410225200801011238');
    const r = valid(id);
    assert.equal(r.birthDate, '2008-01-01');
    assert.equal(r.sex, 1);
  });

  test('an even sequence gives a woman; a string sequence is accepted', () => {
    assert.equal(valid(makeIdNumber('410225', '2008-01-01', 124)).sex, 2);
    assert.equal(makeIdNumber('110105', '1949-12-31', '002'), '11010519491231002X');
  });

  test('many generated numbers are all valid', () => {
    for (let seq = 0; seq < 1000; seq += 7) {
      const id = makeIdNumber('410225', '1990-06-15', seq);
      const r = valid(id);
      assert.equal(r.value, id);
      assert.equal(r.sex, seq % 2 === 1 ? 1 : 2);
    }
  });

  test('rejects malformed input', () => {
    assert.throws(() => makeIdNumber('010225', '2008-01-01', 1), RangeError);
    assert.throws(() => makeIdNumber('41022', '2008-01-01', 1), RangeError);
    assert.throws(() => makeIdNumber('410225', '2008-02-30', 1), RangeError);
    assert.throws(() => makeIdNumber('410225', '2008-01-01', 1000), RangeError);
    assert.throws(() => makeIdNumber('410225', '2008-01-01', -1), RangeError);
  });
});

test('a child born today in China is not "born in the future" on a server whose clock runs in UTC', (t) => {
  const zone = process.env.TZ;
  process.env.TZ = 'UTC';
  // 07:30 on 30 November in Beijing; still 29 November by the server's own clock.
  t.mock.timers.enable({ apis: ['Date'], now: new Date('2026-11-29T23:30:00Z') });
  try {
    const first17 = '41022520261130001';
    const result = normalizeIdNumber(first17 + computeCheckCharacter(first17));
    assert.equal(result.ok, true, JSON.stringify(result));
    const tomorrow = '41022520261201001';
    const refused = normalizeIdNumber(tomorrow + computeCheckCharacter(tomorrow));
    assert.equal(refused.ok, false);
  } finally {
    t.mock.timers.reset();
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
});
