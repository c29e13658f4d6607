// Writing to the registry from the web app: register and change a person, record and retract dated
// facts, link relatives, and the clerk's duplicates with their merge (mirroring PersonCreate,
// PersonPatch, FactCreate, RelationCreate, DuplicateList and MergeBody in
// src/modules/registry/registry.schemas.ts). The fact kinds and their fields follow
// src/modules/registry/registry.rules.ts (FACT_FIELDS), with the ledger's own words as labels.
import { api } from '../api.ts';
import type { Lang, Localized } from '../i18n.ts';
import type { Fact, PersonFile } from './persons.ts';
import type { HouseholdMember } from './households.ts';

export interface PersonInput {
  name: string;
  idNumber?: string | null;
  noIdReason?: string | null;
  birthCertNo?: string | null;
  sex?: 1 | 2 | null;
  birthDate?: string | null;
  ethnicity?: string | null;
  phone?: string | null;
  hukouRegionCode: string;
  hukouType?: string | null;
  residenceRegionCode?: string | null;
  householdId?: number | null;
  relationToHead?: string | null;
}

export type PersonPatch = { version: number } & Partial<PersonInput>;

/** What the person file adds to PersonFile for editing (the server sends these too). */
export interface EditablePerson extends PersonFile {
  hukouType: string | null;
  idNumberMasked: boolean;
}

export type RelationKind = 'parent' | 'spouse' | 'guardian' | 'carer';

export interface RelationInput {
  relatedPersonId: number;
  kind: RelationKind;
  subtype?: 'biological' | 'adoptive' | 'step' | null;
  validFrom?: string | null;
  entrustmentFormDate?: string | null;
  carerFitnessCheckedOn?: string | null;
  carerFit?: boolean | null;
}

export interface FactInput {
  kind: FactKind;
  from: string;
  to?: string | null;
  data?: Record<string, unknown>;
}

export interface DuplicateGroup {
  reason: 'same_name_birth_township' | 'same_pinyin_birth';
  birthDate: string;
  persons: HouseholdMember[];
}

export const personEditApi = {
  get: (id: number, signal?: AbortSignal) => api.get<EditablePerson>(`/persons/${id}`, { signal }),
  create: (input: PersonInput) => api.post<EditablePerson>('/persons', input),
  update: (id: number, patch: PersonPatch) => api.patch<EditablePerson>(`/persons/${id}`, patch),
  addFact: (id: number, input: FactInput) => api.post<Fact>(`/persons/${id}/facts`, input),
  retractFact: (id: number, factId: number, reason: string | null) =>
    api.post<Fact>(`/persons/${id}/facts/${factId}/retract`, reason ? { reason } : {}),
  /** Ends an open fact: `to` is the first day it no longer holds. */
  endFact: (id: number, factId: number, to: string) =>
    api.post<Fact>(`/persons/${id}/facts/${factId}/end`, { to }),
  addRelation: (id: number, input: RelationInput) =>
    api.post<EditablePerson>(`/persons/${id}/relations`, input),
  /** Ends a current link (a divorce, an entrusted care or a guardianship ended): `to` is its first day off. */
  endRelation: (id: number, relationId: number, to: string) =>
    api.post<EditablePerson>(`/persons/${id}/relations/${relationId}/end`, { to }),
  duplicates: (region: string | undefined, cursor?: string | null, signal?: AbortSignal) =>
    api.get<{ items: DuplicateGroup[]; nextCursor: string | null }>('/persons/duplicates', {
      query: { region, cursor: cursor ?? undefined },
      signal,
    }),
  merge: (id: number, intoId: number, version: number) =>
    api.post<EditablePerson>(`/persons/${id}/merge`, { intoId, version }),
};

// ---------- fact kinds and their fields ----------

/** The kinds a clerk records by hand; a ledger declaration comes only from a child ledger import. */
export const FACT_KINDS = [
  'migration',
  'liberty_restriction',
  'lost_contact',
  'guardianship_revoked',
  'deported',
  'death',
  'declared_missing',
  'declared_dead',
  'disability',
  'serious_illness',
  'schooling',
  'self_care',
  'living_arrangement',
  'family_planning_special',
  'assistance',
  'guardianship_failure',
] as const;
export type FactKind = (typeof FACT_KINDS)[number];

export const FACT_LABELS: Readonly<Record<FactKind | 'ledger_declaration', Localized>> = {
  migration: { zh: '外出务工', en: 'migration for work' },
  liberty_restriction: { zh: '限制人身自由', en: 'liberty restriction' },
  lost_contact: { zh: '失联', en: 'lost contact' },
  guardianship_revoked: { zh: '被撤销监护资格', en: 'guardianship revoked' },
  deported: { zh: '被遣送(驱逐)出境', en: 'deported' },
  death: { zh: '死亡', en: 'death' },
  declared_missing: { zh: '宣告失踪', en: 'declared missing' },
  declared_dead: { zh: '宣告死亡', en: 'declared dead' },
  disability: { zh: '残疾', en: 'disability' },
  serious_illness: { zh: '重病', en: 'serious illness' },
  schooling: { zh: '就学', en: 'schooling' },
  self_care: { zh: '生活自理能力', en: 'self-care ability' },
  living_arrangement: { zh: '居住状况', en: 'living arrangement' },
  family_planning_special: { zh: '计划生育特殊家庭', en: 'family-planning special family' },
  assistance: { zh: '享受社会救助', en: 'social assistance' },
  guardianship_failure: { zh: '监护缺失或监护不当', en: 'guardianship failure' },
  ledger_declaration: { zh: '台账填报情况', en: 'answers declared in the child ledger' },
};

/** A fact kind in words ("外出务工", "Migration for work"); an unknown kind as its code. */
export function factLabel(kind: string, lang: Lang): string {
  const label = (FACT_LABELS as Record<string, Localized | undefined>)[kind]?.[lang];
  if (!label) return kind;
  return lang === 'en' ? label.charAt(0).toUpperCase() + label.slice(1) : label;
}

export type FactField =
  | { key: string; label: Localized; type: 'text'; required?: boolean }
  | { key: string; label: Localized; type: 'date'; required?: boolean }
  | { key: string; label: Localized; type: 'boolean' }
  | {
      key: string;
      label: Localized;
      type: 'choice';
      required?: boolean;
      options: readonly { value: string | number; label: Localized }[];
    };

const choices = <V extends string | number>(labels: Record<V, Localized>, order: readonly V[]) =>
  order.flatMap((value) => {
    const label: Localized | undefined = labels[value];
    return label ? [{ value, label }] : [];
  });

export const FACT_FIELDS: Readonly<Record<FactKind, readonly FactField[]>> = {
  migration: [
    { key: 'destination', label: { zh: '外出务工地', en: 'Destination' }, type: 'text' },
    { key: 'expectedReturn', label: { zh: '预计返回日期', en: 'Expected return' }, type: 'date' },
    { key: 'contact', label: { zh: '联系方式', en: 'Contact' }, type: 'text' },
    {
      key: 'homeVisits',
      label: { zh: '回家频次', en: 'Comes home' },
      type: 'choice',
      options: choices(
        {
          monthly: { zh: '每月', en: 'monthly' },
          quarterly: { zh: '每季度', en: 'every quarter' },
          half_yearly: { zh: '每半年', en: 'every half year' },
          yearly: { zh: '每年', en: 'yearly' },
          rarely: { zh: '很少回家', en: 'rarely' },
        },
        ['monthly', 'quarterly', 'half_yearly', 'yearly', 'rarely'],
      ),
    },
  ],
  liberty_restriction: [
    {
      key: 'type',
      label: { zh: '限制类型', en: 'Kind of restriction' },
      type: 'choice',
      required: true,
      options: choices(
        {
          sentence: { zh: '服刑在押', en: 'serving a sentence' },
          drug_rehabilitation: { zh: '强制隔离戒毒', en: 'compulsory drug rehabilitation' },
          other: { zh: '其他限制人身自由', en: 'another liberty restriction' },
        },
        ['sentence', 'drug_rehabilitation', 'other'],
      ),
    },
    { key: 'expectedEnd', label: { zh: '预计结束日期', en: 'Expected end' }, type: 'date' },
  ],
  lost_contact: [
    {
      key: 'policeReportDate',
      label: { zh: '报警日期', en: 'Police report date' },
      type: 'date',
      required: true,
    },
  ],
  guardianship_revoked: [],
  deported: [],
  death: [],
  declared_missing: [],
  declared_dead: [],
  disability: [
    {
      key: 'category',
      label: { zh: '残疾类别', en: 'Category' },
      type: 'choice',
      required: true,
      options: choices(
        {
          1: { zh: '视力', en: 'visual' },
          2: { zh: '听力', en: 'hearing' },
          3: { zh: '言语', en: 'speech' },
          4: { zh: '肢体', en: 'physical' },
          5: { zh: '智力', en: 'intellectual' },
          6: { zh: '精神', en: 'mental' },
          7: { zh: '多重', en: 'multiple' },
        },
        [1, 2, 3, 4, 5, 6, 7],
      ),
    },
    {
      key: 'grade',
      label: { zh: '残疾等级', en: 'Grade' },
      type: 'choice',
      required: true,
      options: choices(
        {
          1: { zh: '一级', en: 'grade 1' },
          2: { zh: '二级', en: 'grade 2' },
          3: { zh: '三级', en: 'grade 3' },
          4: { zh: '四级', en: 'grade 4' },
        },
        [1, 2, 3, 4],
      ),
    },
    { key: 'certificateNo', label: { zh: '残疾证号', en: 'Certificate number' }, type: 'text' },
  ],
  serious_illness: [{ key: 'diagnosis', label: { zh: '诊断', en: 'Diagnosis' }, type: 'text' }],
  schooling: [
    {
      key: 'stage',
      label: { zh: '就学阶段', en: 'Stage' },
      type: 'choice',
      required: true,
      options: choices(
        {
          preschool: { zh: '学前', en: 'preschool' },
          primary: { zh: '小学', en: 'primary school' },
          junior: { zh: '初中', en: 'junior secondary' },
          senior: { zh: '高中', en: 'senior secondary' },
          vocational: { zh: '中职', en: 'secondary vocational' },
          college: { zh: '大学', en: 'college' },
          none: { zh: '未就学', en: 'not in school' },
        },
        ['preschool', 'primary', 'junior', 'senior', 'vocational', 'college', 'none'],
      ),
    },
    { key: 'school', label: { zh: '学校名称', en: 'School' }, type: 'text' },
    { key: 'droppedOut', label: { zh: '辍学', en: 'Dropped out' }, type: 'boolean' },
  ],
  self_care: [
    {
      key: 'level',
      label: { zh: '生活自理能力', en: 'Self-care' },
      type: 'choice',
      required: true,
      options: choices(
        {
          intact: { zh: '完好', en: 'intact' },
          mild: { zh: '轻度失能', en: 'mild loss' },
          moderate: { zh: '中度失能', en: 'moderate loss' },
          severe: { zh: '重度失能', en: 'severe loss' },
        },
        ['intact', 'mild', 'moderate', 'severe'],
      ),
    },
  ],
  living_arrangement: [
    {
      key: 'value',
      label: { zh: '居住状况', en: 'Living arrangement' },
      type: 'choice',
      required: true,
      options: choices(
        {
          alone: { zh: '独居', en: 'alone' },
          spouse_only: { zh: '与配偶同住', en: 'with the spouse only' },
          with_children: { zh: '与子女同住', en: 'with children' },
          with_grandchildren: { zh: '与孙辈同住', en: 'with grandchildren' },
          institution: { zh: '机构供养', en: 'in an institution' },
          other: { zh: '其他', en: 'other' },
        },
        ['alone', 'spouse_only', 'with_children', 'with_grandchildren', 'institution', 'other'],
      ),
    },
  ],
  family_planning_special: [],
  assistance: [
    {
      key: 'program',
      label: { zh: '救助类别', en: 'Programme' },
      type: 'choice',
      required: true,
      options: choices(
        {
          dibao: { zh: '低保', en: 'dibao' },
          tekun: { zh: '特困供养', en: 'tekun' },
          near_dibao: { zh: '低保边缘', en: 'near-dibao' },
        },
        ['dibao', 'tekun', 'near_dibao'],
      ),
    },
  ],
  guardianship_failure: [
    {
      key: 'type',
      label: { zh: '情形', en: 'Kind' },
      type: 'choice',
      required: true,
      options: choices(
        {
          abuse: { zh: '虐待', en: 'abuse' },
          abandonment: { zh: '遗弃', en: 'abandonment' },
          neglect: { zh: '疏于照料', en: 'neglect' },
        },
        ['abuse', 'abandonment', 'neglect'],
      ),
    },
  ],
};

/**
 * The child ledger's own answers (a 'ledger_declaration' fact, written only by a ledger import;
 * src/modules/registry/registry.rules.ts FACT_FIELDS and TEMPLATE_FACT_KEYS), labelled with the
 * ledger's column names. Display only: no clerk records this kind by hand.
 */
export const LEDGER_DECLARATION_FIELDS: readonly FactField[] = [
  { key: 'leftBehindChild', label: { zh: '留守儿童', en: 'Left-behind child' }, type: 'boolean' },
  {
    key: 'bothParentsMigrant',
    label: { zh: '父母双方同时外出', en: 'Both parents away for work' },
    type: 'boolean',
  },
  {
    key: 'oneMigrantOtherUnable',
    label: { zh: '一方外出另一方无监护能力', en: 'One parent away, the other unable to care' },
    type: 'boolean',
  },
  {
    key: 'unableParent',
    label: { zh: '无监护能力方', en: 'Parent unable to care' },
    type: 'choice',
    options: choices({ father: { zh: '父亲', en: 'father' }, mother: { zh: '母亲', en: 'mother' } }, [
      'father',
      'mother',
    ]),
  },
  { key: 'unableReason', label: { zh: '无监护能力原因', en: 'Why unable' }, type: 'text' },
  { key: 'hasEntrustedCarer', label: { zh: '有无委托监护人', en: 'Entrusted carer' }, type: 'boolean' },
  {
    key: 'guardianshipType',
    label: { zh: '监护类型', en: 'Guardianship' },
    type: 'choice',
    options: choices(
      {
        none: { zh: '无人监护', en: 'no one cares for the child' },
        parent_unable: { zh: '父或母无监护能力', en: 'a parent is unable to care' },
        carer_insufficient: { zh: '受委托监护人监护能力不足', en: 'the entrusted carer cannot cope' },
        fair: { zh: '监护情况一般', en: 'fair' },
        good: { zh: '监护情况较好', en: 'good' },
      },
      ['none', 'parent_unable', 'carer_insufficient', 'fair', 'good'],
    ),
  },
  { key: 'hukouRegistered', label: { zh: '是否登记户口', en: 'Hukou registered' }, type: 'boolean' },
  { key: 'boarding', label: { zh: '是否学校寄宿', en: 'Boards at school' }, type: 'boolean' },
  { key: 'incomeSources', label: { zh: '家庭经济来源', en: 'Family income' }, type: 'text' },
  { key: 'assistance', label: { zh: '救助帮扶情况', en: 'Assistance received' }, type: 'text' },
];

/** Every kind's fields as the person file shows them: the recordable ones and the ledger's. */
const DISPLAY_FIELDS: Readonly<Record<string, readonly FactField[] | undefined>> = {
  ...FACT_FIELDS,
  ledger_declaration: LEDGER_DECLARATION_FIELDS,
};

const YES_NO: Readonly<Record<'true' | 'false', Localized>> = {
  true: { zh: '是', en: 'yes' },
  false: { zh: '否', en: 'no' },
};

/**
 * A fact's data in words: "外出务工地: 郑州; 预计返回日期: 2026-02-01". A yes/no is always a word
 * (是/否, yes/no), never true/false; a key this table does not know yet (a newer server) is shown as
 * it is rather than dropped, so that nothing recorded is hidden.
 */
export function describeFactData(kind: string, data: Record<string, unknown>, lang: 'zh' | 'en'): string {
  const fields = DISPLAY_FIELDS[kind] ?? [];
  const parts: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (value === null || value === undefined || value === '') continue;
    const field = fields.find((f) => f.key === key);
    let shown: string;
    if (typeof value === 'boolean') shown = YES_NO[value ? 'true' : 'false'][lang];
    else if (field?.type === 'choice')
      shown = field.options.find((o) => o.value === value)?.label[lang] ?? String(value);
    else if (Array.isArray(value)) shown = value.map(String).join(lang === 'zh' ? '、' : ', ');
    else if (typeof value === 'object') shown = JSON.stringify(value);
    else shown = String(value as string | number);
    parts.push(`${field ? field.label[lang] : key}: ${shown}`);
  }
  return parts.join('; ');
}

/** The family relations a clerk most often types (GB/T 4761); the server takes any name. */
export const COMMON_RELATIONS_TO_HEAD = [
  '户主',
  '配偶',
  '子',
  '女',
  '孙子',
  '孙女',
  '外孙子',
  '外孙女',
  '父亲',
  '母亲',
  '祖父',
  '祖母',
  '儿媳',
  '女婿',
  '兄弟姐妹',
  '其他',
] as const;

/**
 * 与户主关系 in English: the GB/T 4761-2008 names and the everyday words the template accepts
 * (registry.template.ts RELATIONS_TO_HEAD). The stored word stays the Chinese one.
 */
const RELATION_TO_HEAD_EN: Readonly<Record<string, string>> = {
  户主: 'head',
  本人: 'head',
  配偶: 'spouse',
  夫: 'husband',
  妻: 'wife',
  丈夫: 'husband',
  妻子: 'wife',
  子: 'son',
  儿子: 'son',
  独生子: 'only son',
  长子: 'eldest son',
  次子: 'second son',
  三子: 'third son',
  四子: 'fourth son',
  五子: 'fifth son',
  养子或继子: 'adopted son or stepson',
  养子: 'adopted son',
  继子: 'stepson',
  女婿: 'son-in-law',
  其他儿子: 'other son',
  女: 'daughter',
  女儿: 'daughter',
  独生女: 'only daughter',
  长女: 'eldest daughter',
  次女: 'second daughter',
  三女: 'third daughter',
  四女: 'fourth daughter',
  五女: 'fifth daughter',
  养女或继女: 'adopted daughter or stepdaughter',
  养女: 'adopted daughter',
  继女: 'stepdaughter',
  儿媳: 'daughter-in-law',
  其他女儿: 'other daughter',
  '孙子、孙女或外孙子、外孙女': 'grandchild',
  孙子: "grandson (son's son)",
  孙女: "granddaughter (son's daughter)",
  外孙子: "grandson (daughter's son)",
  外孙女: "granddaughter (daughter's daughter)",
  孙媳妇或外孙媳妇: "grandson's wife",
  孙媳妇: "grandson's wife",
  孙媳: "grandson's wife",
  外孙媳妇: "grandson's wife (daughter's son)",
  孙女婿或外孙女婿: "granddaughter's husband",
  孙女婿: "granddaughter's husband",
  曾孙子或外曾孙子: 'great-grandson',
  曾孙子: 'great-grandson',
  外曾孙子: "great-grandson (daughter's line)",
  曾孙女或外曾孙女: 'great-granddaughter',
  曾孙女: 'great-granddaughter',
  外曾孙女: "great-granddaughter (daughter's line)",
  '其他孙子、孙女或外孙子、外孙女': 'other grandchild',
  父母: 'parent',
  父亲: 'father',
  母亲: 'mother',
  公公: "father-in-law (husband's father)",
  婆婆: "mother-in-law (husband's mother)",
  岳父: "father-in-law (wife's father)",
  岳母: "mother-in-law (wife's mother)",
  继父或养父: 'stepfather or adoptive father',
  继母或养母: 'stepmother or adoptive mother',
  其他父母关系: 'other parent',
  祖父母或外祖父母: 'grandparent',
  祖父: "grandfather (father's father)",
  祖母: "grandmother (father's mother)",
  外祖父: "grandfather (mother's father)",
  外祖母: "grandmother (mother's mother)",
  配偶的祖父母或外祖父母: "spouse's grandparent",
  曾祖父: 'great-grandfather',
  曾祖母: 'great-grandmother',
  配偶的曾祖父母或外曾祖父母: "spouse's great-grandparent",
  其他祖父母或外祖父母关系: 'other grandparent',
  兄弟姐妹: 'sibling',
  兄: 'elder brother',
  哥哥: 'elder brother',
  嫂: "elder brother's wife",
  弟: 'younger brother',
  弟弟: 'younger brother',
  弟媳: "younger brother's wife",
  姐姐: 'elder sister',
  姐: 'elder sister',
  姐夫: "elder sister's husband",
  妹妹: 'younger sister',
  妹: 'younger sister',
  妹夫: "younger sister's husband",
  其他兄弟姐妹: 'other sibling',
  其他: 'other',
  伯父: "uncle (father's elder brother)",
  伯母: "aunt (wife of father's elder brother)",
  叔父: "uncle (father's younger brother)",
  婶母: "aunt (wife of father's younger brother)",
  舅父: "uncle (mother's brother)",
  舅母: "aunt (wife of mother's brother)",
  姨父: "uncle (husband of mother's sister)",
  姨母: "aunt (mother's sister)",
  姑父: "uncle (husband of father's sister)",
  姑母: "aunt (father's sister)",
  '堂兄弟、堂姐妹': "cousin (father's brother's child)",
  '表兄弟、表姐妹': 'cousin',
  侄子: "nephew (brother's son)",
  侄女: "niece (brother's daughter)",
  外甥: "nephew (sister's son)",
  外甥女: "niece (sister's daughter)",
  其他亲属: 'other relative',
  非亲属: 'not related',
};

/** 与户主关系 in the interface language; a word without an English name stays as stored. */
export function relationToHeadText(word: string, lang: Lang): string {
  return lang === 'en' ? (RELATION_TO_HEAD_EN[word] ?? word) : word;
}

/**
 * A relation's kind, the person file's relation role (the reverse of a kind: child, ward, cared for)
 * and a parent link's subtype in words: "what the related person is to this one".
 */
export const RELATION_WORDS: Readonly<Record<string, Localized>> = {
  parent: { zh: '父母', en: 'parent' },
  child: { zh: '子女', en: 'child' },
  spouse: { zh: '配偶', en: 'spouse' },
  guardian: { zh: '监护人', en: 'guardian' },
  ward: { zh: '被监护人', en: 'ward' },
  carer: { zh: '受委托照护人', en: 'entrusted carer' },
  cared_for: { zh: '受照护人', en: 'cared for' },
  biological: { zh: '亲生', en: 'biological' },
  adoptive: { zh: '收养', en: 'adoptive' },
  step: { zh: '继', en: 'step' },
};
