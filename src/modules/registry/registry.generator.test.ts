import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ageOn } from '../../platform/dates.ts';
import { readDivision } from '../regions/index.ts';
import {
  GENERATOR_RATES,
  ethnicWeightsOf,
  generateCounty,
  mulberry32,
  writeGeneratedTemplate,
} from './registry.generator.ts';
import { normalizeIdNumber } from './registry.idnumber.ts';
import { parseRegistryFile } from './registry.parse.ts';
import { peoplesNamedIn } from './registry.peoples.ts';
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

describe('peoples, names and destinations of the county', () => {
  test('the peoples an autonomous area is named for', () => {
    assert.deepEqual(peoplesNamedIn('长阳土家族自治县'), ['土家族']);
    assert.deepEqual(peoplesNamedIn('黔南布依族苗族自治州'), ['布依族', '苗族']);
    assert.deepEqual(peoplesNamedIn('伊犁哈萨克自治州'), ['哈萨克族']);
    assert.deepEqual(peoplesNamedIn('巴音郭楞蒙古自治州'), ['蒙古族']);
    assert.deepEqual(peoplesNamedIn('西双版纳傣族自治州'), ['傣族']);
    assert.deepEqual(peoplesNamedIn('互助土族自治县'), ['土族']);
    assert.deepEqual(peoplesNamedIn('新疆维吾尔自治区'), ['维吾尔族']);
    // 内蒙古 is a place name, not the 蒙古 people; 兰考县 and 阿克苏地区 are not autonomous.
    assert.deepEqual(peoplesNamedIn('内蒙古自治区'), []);
    assert.deepEqual(peoplesNamedIn('兰考县'), []);
    assert.deepEqual(peoplesNamedIn('阿克苏地区'), []);
  });

  test('weights: the province’s shares; an autonomous county’s peoples raised to 55%, a prefecture’s to 40%', () => {
    const sum = (ws: number[]) => ws.reduce((a, b) => a + b, 0);
    const henan = ethnicWeightsOf('41', '兰考县', '开封市');
    assert.deepEqual(henan.peoples, ['汉族', '回族', '满族']);
    const changyang = ethnicWeightsOf('42', '长阳土家族自治县', '宜昌市');
    assert.ok(Math.abs(sum(changyang.weights) - 1) < 1e-9);
    assert.ok(Math.abs((changyang.weights[changyang.peoples.indexOf('土家族')] ?? 0) - 0.55) < 1e-9);
    const pingtang = ethnicWeightsOf('52', '平塘县', '黔南布依族苗族自治州');
    const titular = ['布依族', '苗族'].map((p) => pingtang.weights[pingtang.peoples.indexOf(p)] ?? 0);
    assert.ok(Math.abs(sum(titular) - 0.4) < 1e-9, `${titular}`);
    // A people the province's shares do not list still gets the county's share.
    const dachang = ethnicWeightsOf('13', '大厂回族自治县', '廊坊市');
    assert.ok(Math.abs((dachang.weights[dachang.peoples.indexOf('回族')] ?? 0) - 0.55) < 1e-9);
    const jishishan = ethnicWeightsOf('62', '积石山保安族东乡族撒拉族自治县', '临夏回族自治州');
    assert.deepEqual(
      ['保安族', '东乡族', '撒拉族'].every((p) => jishishan.peoples.includes(p)),
      true,
    );
  });

  test('阿瓦提县 (Xinjiang): Uyghur names end with the father’s name; migrants go to the province’s cities or outside it', async () => {
    const awat = await collect({ ...options, countyCode: '652928', persons: 3000 });
    const byId = new Map(awat.filter((r) => r.idNumber).map((r) => [r.idNumber, r]));
    const uyghur = awat.filter((r) => r.ethnicity === '维吾尔族');
    const share = uyghur.length / awat.length;
    assert.ok(share > 0.35 && share < 0.55, `Uyghur share ${share}`);
    let withFather = 0;
    for (const r of uyghur) {
      const parts = r.name.split('·');
      assert.equal(parts.length, 2, r.name);
      const father = r.fatherIdNumber ? byId.get(r.fatherIdNumber) : undefined;
      if (father) {
        withFather += 1;
        assert.equal(parts[1], father.name.split('·')[0], `${r.name}, father ${father.name}`);
      }
    }
    assert.ok(withFather > 100, `${withFather} Uyghur persons with the father in the household`);
    for (const r of awat.filter((r) => r.ethnicity === '汉族')) assert.ok(!r.name.includes('·'), r.name);

    const cities = new Set<string>();
    for await (const r of readDivision({ within: '65', levels: 2 }))
      if (r.code.length === 4) cities.add(r.name);
    const destinations = awat.flatMap((r) => (r.migrationDestination ? [r.migrationDestination] : []));
    const inside = destinations.filter((d) => d.startsWith('新疆维吾尔自治区'));
    assert.ok(
      inside.length > 50 && inside.length < destinations.length,
      `${inside.length} of ${destinations.length}`,
    );
    for (const d of inside) {
      const city = d.slice('新疆维吾尔自治区'.length);
      assert.ok(cities.has(city) && city.endsWith('市'), d);
    }
    assert.ok(
      destinations.every((d) => !d.startsWith('河南省')),
      'no Henan city for a Xinjiang county',
    );
  });

  test('林周县 (Tibet): mostly 藏族 with two-part names and no dot; 兰考县 keeps its peoples and Henan cities', async () => {
    const lhundrub = await collect({ ...options, countyCode: '540121', persons: 2000 });
    const tibetan = lhundrub.filter((r) => r.ethnicity === '藏族');
    assert.ok(tibetan.length / lhundrub.length > 0.75, `${tibetan.length}`);
    for (const r of tibetan) assert.match(r.name, /^[\u4e00-\u9fa5]{4}$/, r.name);
    assert.ok(new Set(records.map((r) => r.ethnicity)).size <= 3);
    for (const r of records)
      assert.ok(['汉族', '回族', '满族'].includes(r.ethnicity ?? ''), `${r.ethnicity}`);
    const henanCities = records.flatMap((r) =>
      r.migrationDestination?.startsWith('河南省') ? [r.migrationDestination] : [],
    );
    assert.ok(henanCities.length > 0);
    assert.ok(records.every((r) => !r.migrationDestination || !r.migrationDestination.startsWith('贵州省')));
  });
});
