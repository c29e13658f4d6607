// node:test's test() and describe() return promises that the runner itself tracks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isSecretKey, redactObject, redactSensitive } from './redact.ts';

describe('redactSensitive: ID numbers', () => {
  test('ID number and phone in a URL query string', () => {
    assert.equal(
      redactSensitive('/api/v1/persons?idNumber=11010519491231002X&phone=13812345678'),
      '/api/v1/persons?idNumber=[ID]&phone=[PHONE]',
    );
  });

  test('18 digits, 17 digits + X or x, and 15 digits', () => {
    assert.equal(redactSensitive('id 410225200801011238.'), 'id [ID].');
    assert.equal(redactSensitive('id 11010519491231002X'), 'id [ID]');
    assert.equal(redactSensitive('id 11010519491231002x'), 'id [ID]');
    assert.equal(redactSensitive('old 110105491231002 end'), 'old [ID] end');
  });

  test('in JSON text', () => {
    const json = '{"idNumber":"11010519491231002X","phone":"13812345678","n":410225200801011238}';
    assert.equal(redactSensitive(json), '{"idNumber":"[ID]","phone":"[PHONE]","n":[ID]}');
  });

  test('in URL-encoded text, including URL-encoded JSON', () => {
    const encoded = encodeURIComponent(
      JSON.stringify({ idNumber: '11010519491231002X', phone: '+8613812345678' }),
    );
    const out = redactSensitive(encoded);
    assert.equal(out, '%7B%22idNumber%22%3A%22[ID]%22%2C%22phone%22%3A%22[PHONE]%22%7D');
    assert.equal(redactSensitive('q=%2011010519491231002X%20'), 'q=%20[ID]%20');
    assert.equal(redactSensitive('q=%252211010519491231002X'), 'q=%2522[ID]');
  });

  test('an ID number that begins like a mobile is still an ID number', () => {
    assert.equal(redactSensitive('id=138105194912310021'), 'id=[ID]');
    assert.equal(redactSensitive('id=139105491231002'), 'id=[ID]');
  });

  test('any ID-shaped number is hidden wherever it appears', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.stringMatching(/^[1-9]\d{16}[\dXx]$/), fc.stringMatching(/^[1-9]\d{14}$/)),
        fc.constantFrom('', ' ', '=', '"', '%22', '%20', '%2522', '/', '：', '号码', 'id'),
        fc.constantFrom('', ' ', '&', '"', '%22', ',', '}', '号', 'z'),
        (id, before, after) => {
          assert.equal(redactSensitive(`x${before}${id}${after}y`), `x${before}[ID]${after}y`);
        },
      ),
    );
  });

  test('glued to letters', () => {
    assert.equal(redactSensitive('ID:11010519491231002Xabc'), 'ID:[ID]abc');
  });

  test('full-width digits', () => {
    assert.equal(redactSensitive('号码１１０１０５１９４９１２３１００２Ｘ'), '号码[ID]');
  });

  test('several in one line', () => {
    assert.equal(
      redactSensitive('a=410225200801011238,b=110105491231002;c=13912345678'),
      'a=[ID],b=[ID];c=[PHONE]',
    );
  });
});

describe('redactSensitive: phone numbers', () => {
  test('plain, +86, 86 and 0086 prefixes', () => {
    assert.equal(redactSensitive('call 13812345678'), 'call [PHONE]');
    assert.equal(redactSensitive('call +8613812345678'), 'call [PHONE]');
    assert.equal(redactSensitive('call +86 138 1234 5678'), 'call [PHONE]');
    assert.equal(redactSensitive('call 8613812345678'), 'call [PHONE]');
    assert.equal(redactSensitive('call 008613812345678'), 'call [PHONE]');
    assert.equal(redactSensitive('phone=%2B8613812345678'), 'phone=[PHONE]');
  });

  test('grouped with spaces or dashes', () => {
    assert.equal(redactSensitive('138-1234-5678 / 138 1234 5678'), '[PHONE] / [PHONE]');
  });

  test('every mobile prefix 13-19, but not 10-12', () => {
    for (const d of [3, 4, 5, 6, 7, 8, 9]) assert.equal(redactSensitive(`1${d}812345678`), '[PHONE]');
    for (const d of [0, 1, 2]) assert.equal(redactSensitive(`1${d}812345678`), `1${d}812345678`);
  });
});

describe('redactSensitive: leaves ordinary numbers alone', () => {
  test('12-digit village codes and 9-digit township codes', () => {
    for (const s of [
      'region=410225001001',
      'region=130102001201', // starts 13, like a mobile, but 12 digits
      '/api/v1/regions/410225001/children',
      '/api/v1/regions/139001001/children',
      '/api/v1/stats/groups?region=410225&asOf=2026-11-29',
    ]) {
      assert.equal(redactSensitive(s), s);
    }
  });

  test('dates, times, timestamps, ports, UUIDs and longer digit runs', () => {
    for (const s of [
      '2026-11-29T08:00:00.000Z',
      'took 1380ms',
      'time=1764400000000', // 13-digit epoch milliseconds
      'listening on 127.0.0.1:3000',
      'id=123e4567-e89b-12d3-a456-426614174000',
      'n=12345678901234567', // 17 digits
      'n=1234567890123456789', // 19 digits
      'n=1381234567', // 10 digits
      'n=138123456789', // 12 digits
      'amount=1234567 fen',
    ]) {
      assert.equal(redactSensitive(s), s);
    }
  });

  test('text without numbers is unchanged', () => {
    assert.equal(redactSensitive('南彰镇南彰村 GET /api/v1/persons'), '南彰镇南彰村 GET /api/v1/persons');
  });
});

describe('isSecretKey', () => {
  test('names like password, token, secret, authorization, cookie, totp, recoveryCode', () => {
    for (const k of [
      'password',
      'newPassword',
      'PASSWORD',
      'password_hash',
      'token',
      'accessToken',
      'refresh_token',
      'x-csrf-token',
      'clientSecret',
      'authorization',
      'Authorization',
      'proxy-authorization',
      'cookie',
      'set-cookie',
      'totp',
      'totpSecret',
      'recoveryCode',
      'recovery_codes',
      'RecoveryCodes',
    ]) {
      assert.equal(isSecretKey(k), true, k);
    }
  });

  test('ordinary keys', () => {
    for (const k of ['idNumber', 'phone', 'name', 'region', 'url', 'method', 'statusCode']) {
      assert.equal(isSecretKey(k), false, k);
    }
  });
});

describe('redactObject', () => {
  test('secrets replaced whole, strings redacted, nested objects and arrays walked', () => {
    const input = {
      url: '/api/v1/persons?idNumber=11010519491231002X',
      body: { username: 'clerk', password: 'hunter2 13812345678', totp: '123456' },
      headers: { authorization: 'Bearer abc.def', cookie: 'sid=xyz', 'user-agent': 'Mozilla' },
      persons: [{ idNumber: '410225200801011238', phone: '13812345678', name: '张三' }],
      recoveryCodes: ['aaaa-bbbb', 'cccc-dddd'],
      count: 3,
      ok: true,
      none: null,
    };
    assert.deepEqual(redactObject(input), {
      url: '/api/v1/persons?idNumber=[ID]',
      body: { username: 'clerk', password: '[REDACTED]', totp: '[REDACTED]' },
      headers: { authorization: '[REDACTED]', cookie: '[REDACTED]', 'user-agent': 'Mozilla' },
      persons: [{ idNumber: '[ID]', phone: '[PHONE]', name: '张三' }],
      recoveryCodes: '[REDACTED]',
      count: 3,
      ok: true,
      none: null,
    });
  });

  test('does not modify its input', () => {
    const input = { password: 'p', phone: '13812345678', list: ['110105491231002'] };
    const copy = structuredClone(input);
    redactObject(input);
    assert.deepEqual(input, copy);
  });

  test('numbers that are ID or phone numbers are redacted; other numbers are kept', () => {
    assert.deepEqual(redactObject({ phone: 13812345678, region: 410225001001, fen: 150000 }), {
      phone: '[PHONE]',
      region: 410225001001,
      fen: 150000,
    });
  });

  test('keys that are ID numbers are redacted too', () => {
    assert.deepEqual(redactObject({ '11010519491231002X': 'row 3' }), { '[ID]': 'row 3' });
  });

  test('errors keep name, message and stack, redacted', () => {
    const err = new Error('duplicate idNumber 11010519491231002X');
    const out = redactObject({ err }) as { err: { name: string; message: string; stack: string } };
    assert.equal(out.err.name, 'Error');
    assert.equal(out.err.message, 'duplicate idNumber [ID]');
    assert.ok(!out.err.stack.includes('11010519491231002X'));
  });

  test('plain values and circular structures', () => {
    assert.equal(redactObject('13812345678'), '[PHONE]');
    assert.equal(redactObject(undefined), undefined);
    const d = new Date(0);
    assert.equal(redactObject(d), d);
    const loop: Record<string, unknown> = { a: 1 };
    loop['self'] = loop;
    assert.deepEqual(redactObject(loop), { a: 1, self: '[Circular]' });
    const shared = { phone: '13812345678' };
    assert.deepEqual(redactObject([shared, shared]), [{ phone: '[PHONE]' }, { phone: '[PHONE]' }]);
  });
});
