import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ageOn } from '../../platform/dates.ts';
import { readDivision } from '../regions/index.ts';
import { GENERATOR_RATES, generateCounty, mulberry32, writeGeneratedTemplate } from './registry.generator.ts';
import { normalizeIdNumber } from './registry.idnumber.ts';
import { parseRegistryFile } from './registry.parse.ts';
import type { RegistryRecord } from './registry.template.ts';

const ASOF = '2026-11-29';
const options = { countyCode: '410225', persons: 3000, seed: 20261129, asOf: ASOF };
let dir = '';
const regions = new Set<string>();
let records: RegistryRecord[] = [];

async function collect(o = options): Promise<RegistryRecord[]> {
  const out: RegistryRecord[] = [];
  for await (const r of generateCounty(o)) out.push(r);
  return out;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-generator-'));
  for await (const r of readDivision({ within: '410225' })) regions.add(r.code);
  records = await collect();
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('generateCounty', () => {
  test('mulberry32 is deterministic and uniform enough', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 10000 }, () => a());
    assert.deepEqual(
      xs.slice(0, 5),
      Array.from({ length: 5 }, () => b()),
    );
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.02);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
  });

  test('another county’s real villages (平塘县, Guizhou); a county not in the data and an urban district are refused by name', async () => {
    const pingtang = await collect({ ...options, countyCode: '522727', persons: 300 });
    assert.equal(pingtang.length, 300);
    for (const r of pingtang) {
      assert.match(r.hukouRegionCode, /^522727\d{3}(2|3)\d{2}$/);
      if (r.idNumber) assert.ok(r.idNumber.startsWith('522727'), r.idNumber);
    }
    await assert.rejects(
      collect({ ...options, countyCode: '999999' }),
      /county 999999 is not in the division data/,
    );
    await assert.rejects(
      collect({ ...options, countyCode: '110101' }),
      /110101 \(东城区\) has no rural villages/,
    );
  });

  test('the same seed gives identical records; another seed different ones', async () => {
    const hash = (rs: RegistryRecord[]) => createHash('sha256').update(JSON.stringify(rs)).digest('hex');
    assert.equal(hash(await collect()), hash(records));
    assert.notEqual(hash(await collect({ ...options, seed: 1 })), hash(records));
  });

  test('exactly the persons asked for, on real rural villages of the county', () => {
    assert.equal(records.length, options.persons);
    for (const r of records) {
      assert.ok(regions.has(r.hukouRegionCode), r.hukouRegionCode);
      assert.match(r.hukouRegionCode, /^410225\d{3}[23]\d{2}$/);
    }
  });

  test('valid, unique ID numbers issued in the county, agreeing with sex and birth date', () => {
    const seen = new Set<string>();
    for (const r of records) {
      if (r.idNumber === null) {
        assert.equal(r.noIdReason, '未落户');
        assert.equal(ageOn(r.birthDate, ASOF), 0);
        continue;
      }
      const id = normalizeIdNumber(r.idNumber, ASOF);
      assert.ok(id.ok, r.idNumber);
      assert.equal(id.sex, r.sex);
      assert.equal(id.birthDate, r.birthDate);
      assert.ok(r.idNumber.startsWith('410225'));
      assert.ok(!seen.has(r.idNumber), `duplicate ${r.idNumber}`);
      seen.add(r.idNumber);
    }
  });

  test('households of 1 to 7 with one head, links pointing at earlier persons of the household', () => {
    const households = Map.groupBy(records, (r) => r.householdNo);
    const earlier = new Set<string>();
    for (const [, members] of households) {
      assert.ok(members.length >= 1 && members.length <= 7);
      assert.equal(members.filter((m) => m.relationToHead === '户主').length, 1);
      for (const m of members) {
        for (const ref of [m.fatherIdNumber, m.motherIdNumber, m.carerIdNumber]) {
          if (ref)
            assert.ok(earlier.has(ref) && members.some((o) => o.idNumber === ref), `${m.name} → ${ref}`);
        }
        if (m.spouseIdNumber) {
          const spouse = members.find((o) => o.idNumber === m.spouseIdNumber);
          assert.equal(spouse?.spouseIdNumber, m.idNumber);
        }
        if (m.fatherIdNumber) {
          const father = members.find((o) => o.idNumber === m.fatherIdNumber);
          assert.ok(father && father.sex === 1 && father.birthDate < m.birthDate);
        }
        if (m.idNumber) earlier.add(m.idNumber);
      }
    }
    assert.ok(households.size > options.persons / 5 && households.size < options.persons / 2);
  });

  test('plausible proportions: left-behind children, elderly, disability', () => {
    const byId = new Map(records.map((r) => [r.idNumber, r]));
    const children = records.filter((r) => ageOn(r.birthDate, ASOF) < 16 && r.deathDate === null);
    const bothAway = children.filter(
      (c) => byId.get(c.fatherIdNumber)?.migrant === true && byId.get(c.motherIdNumber)?.migrant === true,
    );
    const share = bothAway.length / children.length;
    assert.ok(share > 0.06 && share < 0.2, `left-behind share ${share}`);
    assert.ok(bothAway.some((c) => c.carerIdNumber !== null));
    const elderly = records.filter((r) => ageOn(r.birthDate, ASOF) >= 60).length / records.length;
    assert.ok(elderly > 0.15 && elderly < 0.4, `elderly share ${elderly}`);
    const disabled = records.filter((r) => r.disability).length / records.length;
    assert.ok(disabled > 0.03 && disabled < 0.12, `disability ${disabled}`);
    const total = GENERATOR_RATES.disabilityCategories.reduce((s, x) => s + x, 0);
    assert.ok(Math.abs(total - 1) < 0.001);
  });

  for (const format of ['xlsx', 'csv'] as const) {
    test(`round trip: generate → write ${format} → parse gives identical records`, async () => {
      const file = path.join(dir, `county.${format}`);
      const progress: number[] = [];
      const written = await writeGeneratedTemplate(file, {
        ...options,
        persons: 2000,
        onProgress: (n) => progress.push(n),
      });
      assert.equal(written, 2000);
      assert.equal(progress.at(-1), 2000);
      const parsed: RegistryRecord[] = [];
      for await (const row of parseRegistryFile(file, { regionExists: (c) => regions.has(c), today: ASOF })) {
        assert.deepEqual(row.errors, [], `row ${row.rowNumber}`);
        if (row.record) parsed.push(row.record);
      }
      assert.deepEqual(
        parsed,
        records.slice(0, 2000).length === 2000 ? await collect({ ...options, persons: 2000 }) : [],
      );
    });
  }
});
