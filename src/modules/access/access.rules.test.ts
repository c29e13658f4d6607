import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  normalizeRecoveryCode,
  passwordProblems,
  recoveryCodes,
  regionFitsRole,
  temporaryPassword,
} from './access.rules.ts';
import { LoginGuard, addressKey, totpStep } from './access.service.ts';
import * as OTPAuth from 'otpauth';

describe('password policy', () => {
  test('at least 10 characters', () => {
    assert.equal(passwordProblems('Ab1!Ab1!A', 'someone').length, 1);
    assert.deepEqual(passwordProblems('Ab1!Ab1!Ab', 'someone'), []);
  });

  test('three of the four classes upper, lower, digit, symbol', () => {
    assert.equal(passwordProblems('abcdefghij12', 'someone').length, 1, 'two classes');
    assert.deepEqual(passwordProblems('abcdefghij12X', 'someone'), [], 'upper, lower, digit');
    assert.deepEqual(passwordProblems('abcdefghij-12', 'someone'), [], 'lower, digit, symbol');
    assert.deepEqual(passwordProblems('ABCDEFGHIJ-x', 'someone'), [], 'upper, lower, symbol');
  });

  test('must not contain the username, in any case', () => {
    const problems = passwordProblems('Zhangsan-2026', 'zhangsan');
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.en, /username/);
  });

  test('generated temporary passwords satisfy the policy', () => {
    for (let i = 0; i < 200; i++) assert.deepEqual(passwordProblems(temporaryPassword(), 'anyone'), []);
  });
});

describe('role scope', () => {
  test('a role needs a region of its level', () => {
    assert.ok(regionFitsRole('village_child_director', '410225100201'));
    assert.ok(!regionFitsRole('village_child_director', '410225100'));
    assert.ok(regionFitsRole('township_supervisor', '410225100'));
    assert.ok(regionFitsRole('county_staff', '410225'));
    assert.ok(!regionFitsRole('county_staff', null));
    assert.ok(regionFitsRole('province_viewer', '41'));
    assert.ok(regionFitsRole('national_viewer', null));
    assert.ok(regionFitsRole('mandatory_reporter', null));
  });
});

describe('recovery codes', () => {
  test('ten distinct codes, compared without dashes and case', () => {
    const codes = recoveryCodes();
    assert.equal(new Set(codes).size, 10);
    assert.match(codes[0]!, /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    assert.equal(
      normalizeRecoveryCode(codes[0]!.toUpperCase().replaceAll('-', ' ')),
      codes[0]!.replaceAll('-', ''),
    );
  });
});

describe('TOTP', () => {
  test('accepts the current code and one step of drift, not two', () => {
    const secret = new OTPAuth.Secret({ size: 20 }).base32;
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
    const now = Date.now();
    const step = Math.floor(now / 30000);
    assert.equal(totpStep(secret, totp.generate({ timestamp: now }), now), step);
    assert.equal(totpStep(secret, totp.generate({ timestamp: now - 30000 }), now), step - 1);
    assert.equal(totpStep(secret, totp.generate({ timestamp: now + 90000 }), now), null);
  });
});

describe('login guard', () => {
  test('per-IP limit per minute', () => {
    let now = 0;
    const guard = new LoginGuard(() => now);
    for (let i = 0; i < 3; i++) assert.ok(guard.allow('10.0.0.1', 3));
    assert.ok(!guard.allow('10.0.0.1', 3));
    assert.ok(guard.allow('10.0.0.2', 3), 'another IP is not affected');
    now += 60_000;
    assert.ok(guard.allow('10.0.0.1', 3), 'a new minute');
  });

  test('IPv6 addresses count by their /64, IPv4 and IPv4-mapped by the address', () => {
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:DB8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::5'), '2001:db8:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(addressKey('10.1.2.3'), '10.1.2.3');
    const guard = new LoginGuard(() => 0);
    for (let i = 0; i < 3; i++) assert.ok(guard.allow(`2001:db8:1:2::${i + 1}`, 3));
    assert.ok(!guard.allow('2001:db8:1:2:ffff::9', 3), 'another address of the same /64');
    assert.ok(guard.allow('2001:db8:1:3::1', 3), 'another /64');
  });
});
