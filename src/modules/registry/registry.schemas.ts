import { Type, type Static } from 'typebox';
import { FACT_KINDS } from './registry.facts.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const VillageCode = Type.String({ pattern: '^[0-9]{12}$', description: '12-digit village code' });
export const AnyRegionCode = Type.String({
  pattern: '^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$',
  description: 'region code of any level',
});
const IsoDate = Type.String({ format: 'date', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' });
const Sex = Type.Union([Type.Literal(1), Type.Literal(2)], { description: 'GB/T 2261.1: 1 male, 2 female' });
// Ids, versions and amounts stop at the largest exact JavaScript integer: beyond it a number is no
// longer the one sent, and the database refuses it (a 500, not the 400 naming the field).
const MAX_INTEGER = Number.MAX_SAFE_INTEGER;
const Id = Type.Integer({ minimum: 1, maximum: MAX_INTEGER });
const Version = Type.Integer({
  minimum: 1,
  maximum: MAX_INTEGER,
  description: 'the version read; a stale one is refused with 409',
});

export const IdParams = Type.Object({ id: Id });
export const PersonFileQuery = Type.Object({
  asOf: Type.Optional(
    Type.String({
      format: 'date',
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description:
        'the file as of this date: the facts, relations and care groups in force on it (retracted facts left out); at most today in China (a day still to come has no answer)',
    }),
  ),
});
export const FactParams = Type.Object({ id: Id, factId: Id });

// ---------- persons ----------

const personFields = {
  idNumber: Type.Optional(
    Nullable(Type.String({ maxLength: 40, description: '公民身份号码, 18 characters (15 upgraded)' })),
  ),
  noIdReason: Type.Optional(
    Nullable(
      Type.String({ minLength: 1, maxLength: 100, description: 'why there is no ID number, e.g. 未落户' }),
    ),
  ),
  birthCertNo: Type.Optional(
    Nullable(Type.String({ maxLength: 40, description: 'birth medical certificate number' })),
  ),
  name: Type.String({ minLength: 1, maxLength: 50 }),
  sex: Type.Optional(Nullable(Sex)),
  birthDate: Type.Optional(
    Nullable(
      Type.String({
        format: 'date',
        pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
        description: 'from 1900-01-01 to today, as for the date in an ID number',
      }),
    ),
  ),
  ethnicity: Type.Optional(Nullable(Type.String({ maxLength: 20 }))),
  phone: Type.Optional(Nullable(Type.String({ maxLength: 40 }))),
  hukouRegionCode: VillageCode,
  hukouType: Type.Optional(Nullable(Type.String({ maxLength: 20 }))),
  residenceRegionCode: Type.Optional(Nullable(AnyRegionCode)),
  householdId: Type.Optional(Nullable(Id)),
  relationToHead: Type.Optional(
    Nullable(Type.String({ maxLength: 20, description: 'GB/T 4761 name: 户主, 配偶, 子 …' })),
  ),
};

export const PersonCreate = Type.Object(personFields, { additionalProperties: false });
export type PersonCreate = Static<typeof PersonCreate>;

export const PersonPatch = Type.Object(
  {
    version: Version,
    ...Object.fromEntries(Object.entries(personFields).map(([k, v]) => [k, Type.Optional(v)])),
  } as { version: typeof Version } & {
    [K in keyof typeof personFields]: ReturnType<typeof Type.Optional<(typeof personFields)[K]>>;
  },
  { additionalProperties: false },
);
export type PersonPatch = Static<typeof PersonPatch>;

export const PersonSummary = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    idNumber: Nullable(Type.String({ description: 'masked' })),
    sex: Nullable(Sex),
    birthDate: Nullable(Type.String()),
    phone: Nullable(Type.String({ description: 'masked' })),
    hukouRegionCode: Type.String(),
    householdId: Nullable(Type.Integer()),
    householdNo: Nullable(Type.String()),
    relationToHead: Nullable(Type.String()),
  },
  { $id: 'PersonSummary' },
);
export type PersonSummary = Static<typeof PersonSummary>;

export const PersonListQuery = Type.Object({
  idNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 60,
      description: 'name (exact or prefix), pinyin or initials, last 6 of the ID number (+ name), phone',
    }),
  ),
  region: Type.Optional(AnyRegionCode),
  householdNo: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
  fact: Type.Optional(Type.Enum(FACT_KINDS, { description: 'has a fact of this kind in force today' })),
  group: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
      maxItems: 20,
      description:
        'belongs today to one of these care groups (e.g. left_behind_child); repeat the parameter or separate codes with commas',
    }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
});
export type PersonListQuery = Static<typeof PersonListQuery>;

export const GroupTag = Type.Object({
  code: Type.String({ description: 'care group code, e.g. left_behind_child' }),
  name: Type.String({ description: "the group's name in the request's language" }),
  subCategory: Nullable(Type.String({ description: 'distressed child categories, or the high-age band' })),
});
export type GroupTag = Static<typeof GroupTag>;

export const PersonListItem = Type.Object({
  ...PersonSummary.properties,
  groups: Type.Array(GroupTag, { description: 'the care groups the person belongs to today' }),
});
export type PersonListItem = Static<typeof PersonListItem>;

export const PersonList = Type.Object({
  items: Type.Array(PersonListItem),
  nextCursor: Nullable(Type.String()),
});

export const Relation = Type.Object({
  id: Type.Integer(),
  kind: Type.Union([
    Type.Literal('parent'),
    Type.Literal('spouse'),
    Type.Literal('guardian'),
    Type.Literal('carer'),
  ]),
  role: Type.Enum(['parent', 'child', 'spouse', 'guardian', 'ward', 'carer', 'cared_for'] as const, {
    description: 'what the other person is to this one',
  }),
  personId: Type.Integer({ description: 'the other person' }),
  name: Type.String(),
  subtype: Nullable(Type.String()),
  validFrom: Nullable(Type.String()),
  validTo: Nullable(Type.String()),
  entrustmentFormDate: Nullable(Type.String({ description: '委托监护确认书 date (carers)' })),
  carerFitnessCheckedOn: Nullable(Type.String()),
  carerFit: Nullable(Type.Boolean()),
  source: Type.String(),
  recordedBy: Nullable(Type.Integer({ description: 'the user who recorded the link' })),
  recordedAt: Type.String(),
});
export type Relation = Static<typeof Relation>;

/** A link recorded by mistake and retracted: kept for the history, in force on no day. */
export const RetractedRelation = Type.Object({
  ...Relation.properties,
  retractedAt: Type.String(),
  retractedBy: Nullable(Type.Integer({ description: 'the user who retracted the link' })),
  retractionReason: Type.String({ description: 'why; numbers of 7 digits or more masked' }),
});
export type RetractedRelation = Static<typeof RetractedRelation>;

export const FactView = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  from: Type.String(),
  to: Nullable(Type.String()),
  data: Type.Record(Type.String(), Type.Unknown()),
  source: Type.String(),
  recordedBy: Nullable(Type.Integer()),
  recordedAt: Type.String(),
  retractedAt: Nullable(Type.String()),
  retractedBy: Nullable(Type.Integer()),
  retractionReason: Nullable(Type.String()),
});
export type FactView = Static<typeof FactView>;

export const PersonGroupView = Type.Object({
  ...GroupTag.properties,
  since: Type.String(),
  until: Nullable(Type.String({ description: 'the first day no longer a member; null while a member' })),
  current: Type.Boolean({ description: 'a member today' }),
  reasons: Type.Array(Type.String(), {
    description: "why: the rule and the facts, in the request's language",
  }),
});
export type PersonGroupView = Static<typeof PersonGroupView>;

export const PersonDetail = Type.Object({
  ...PersonSummary.properties,
  idNumberMasked: Type.Boolean(),
  noIdReason: Nullable(
    Type.String({ description: 'free text; numbers of 7 digits or more masked; whole from /reveal' }),
  ),
  birthCertNo: Nullable(
    Type.String({ description: 'the birth certificate number, its digits masked; whole from /reveal' }),
  ),
  namePinyin: Type.String(),
  ethnicity: Nullable(Type.String()),
  hukouType: Nullable(Type.String()),
  residenceRegionCode: Nullable(Type.String()),
  mergedInto: Nullable(Type.Integer()),
  version: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  relations: Type.Array(Relation),
  retractedRelations: Type.Array(RetractedRelation, {
    description:
      'links retracted as recorded by mistake (who, when, why); in force on no day, so empty in an as-of file',
  }),
  facts: Type.Array(FactView, { description: 'the timeline, newest first, retracted facts included' }),
  groups: Type.Array(PersonGroupView, {
    description: 'care group periods, current ones first, then past ones newest first',
  }),
});
export type PersonDetail = Static<typeof PersonDetail>;

export const Revealed = Type.Object({
  id: Type.Integer(),
  idNumber: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  birthCertNo: Nullable(Type.String()),
  noIdReason: Nullable(Type.String()),
  facts: Type.Array(
    Type.Object({
      id: Type.Integer({ description: 'the fact' }),
      field: Type.String({ description: 'the field of its data, e.g. contact or certificateNo' }),
      value: Type.String({ description: 'the whole text' }),
    }),
    {
      description:
        'the fact fields the person file shows masked (a phone or ID number in the text), unmasked',
    },
  ),
});

export const FactCreate = Type.Object(
  {
    kind: Type.Enum(FACT_KINDS),
    from: IsoDate,
    to: Type.Optional(Nullable(IsoDate)),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    source: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type FactCreate = Static<typeof FactCreate>;

export const FactRetract = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
);

/** Retracts a link recorded by mistake (against the wrong person): the reason is required. */
export const RelationRetract = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'why the link is wrong (e.g. recorded against the wrong person of the same name)',
    }),
  },
  { additionalProperties: false },
);
export type RelationRetract = Static<typeof RelationRetract>;

/** Ends an open fact: the period becomes [from, to). */
export const FactEnd = Type.Object(
  {
    to: Type.String({
      format: 'date',
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description:
        'the first day the fact no longer holds (after its start, not after today: an end still to come is data, e.g. expectedEnd)',
    }),
  },
  { additionalProperties: false },
);
export type FactEnd = Static<typeof FactEnd>;

export const RelationParams = Type.Object({ id: Id, relationId: Id });
export const RelationEnd = Type.Object(
  {
    to: Type.String({
      format: 'date',
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description:
        'the first day the link no longer holds (a divorce, an entrusted care or a guardianship ended; after its start)',
    }),
  },
  { additionalProperties: false },
);
export type RelationEnd = Static<typeof RelationEnd>;

export const RelationCreate = Type.Object(
  {
    relatedPersonId: Id,
    kind: Type.Union(
      [Type.Literal('parent'), Type.Literal('spouse'), Type.Literal('guardian'), Type.Literal('carer')],
      {
        description: 'what the related person is to this one',
      },
    ),
    subtype: Type.Optional(
      Nullable(Type.Union([Type.Literal('biological'), Type.Literal('adoptive'), Type.Literal('step')])),
    ),
    validFrom: Type.Optional(
      Nullable(
        Type.String({
          format: 'date',
          pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
          description: 'not before either person’s birth',
        }),
      ),
    ),
    entrustmentFormDate: Type.Optional(
      Nullable(
        Type.String({
          format: 'date',
          pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
          description:
            'the day the entrusted-guardianship form was signed: not after today, not before either birth',
        }),
      ),
    ),
    carerFitnessCheckedOn: Type.Optional(
      Nullable(
        Type.String({
          format: 'date',
          pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
          description:
            "the day the carer's fitness was checked: not after today, not before the carer's birth",
        }),
      ),
    ),
    carerFit: Type.Optional(Nullable(Type.Boolean())),
  },
  { additionalProperties: false },
);
export type RelationCreate = Static<typeof RelationCreate>;

export const MergeBody = Type.Object({ intoId: Id, version: Version }, { additionalProperties: false });

export const DuplicatesQuery = Type.Object({
  region: Type.Optional(AnyRegionCode),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(
    Type.String({ pattern: '^[0-9]{1,15}:[12]$', description: 'nextCursor of the page before' }),
  ),
});
export const DuplicateGroup = Type.Object({
  reason: Type.Union([Type.Literal('same_name_birth_township'), Type.Literal('same_pinyin_birth')]),
  birthDate: Type.String(),
  persons: Type.Array(PersonSummary),
});
export const DuplicateList = Type.Object({
  items: Type.Array(DuplicateGroup),
  nextCursor: Nullable(Type.String()),
});

// ---------- households ----------

const householdFields = {
  householdNo: Type.String({ minLength: 1, maxLength: 40, description: '户编号, unique within the county' }),
  hukouRegionCode: VillageCode,
  address: Type.Optional(
    Nullable(
      Type.String({
        maxLength: 200,
        description:
          'a masked number as read (138****5678) keeps the stored number; any other masked number is refused',
      }),
    ),
  ),
  headPersonId: Type.Optional(Nullable(Id)),
  annualIncomeFen: Type.Optional(
    Nullable(Type.Integer({ minimum: 0, maximum: MAX_INTEGER, description: 'declared annual income, fen' })),
  ),
  assets: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), {
      description:
        'declared assets for means tests; numbers finite, whole numbers at most 9007199254740991 either way (money in integer fen)',
    }),
  ),
  bankAccount: Type.Optional(Nullable(Type.String({ maxLength: 40, description: 'stored masked only' }))),
};

export const HouseholdCreate = Type.Object(householdFields, { additionalProperties: false });
export type HouseholdCreate = Static<typeof HouseholdCreate>;
export const HouseholdPatch = Type.Object(
  {
    version: Version,
    address: householdFields.address,
    headPersonId: householdFields.headPersonId,
    formerHeadRelationToHead: Type.Optional(
      Nullable(
        Type.String({
          maxLength: 20,
          description:
            "with a new headPersonId: the former head's new 与户主关系 (a GB/T 4761 name other than 户主); required when the household had a head",
        }),
      ),
    ),
    annualIncomeFen: householdFields.annualIncomeFen,
    assets: householdFields.assets,
    bankAccount: householdFields.bankAccount,
  },
  { additionalProperties: false },
);
export type HouseholdPatch = Static<typeof HouseholdPatch>;

export const HouseholdDetail = Type.Object({
  id: Type.Integer(),
  countyCode: Type.String(),
  householdNo: Type.String(),
  hukouRegionCode: Type.String(),
  address: Nullable(
    Type.String({
      description:
        'free text; numbers of 7 digits or more (a phone, an ID number) masked; whole from POST /households/{id}/reveal',
    }),
  ),
  headPersonId: Nullable(Type.Integer()),
  annualIncomeFen: Nullable(Type.Integer()),
  assets: Type.Record(Type.String(), Type.Unknown(), {
    description: 'texts masked like the address; whole from POST /households/{id}/reveal',
  }),
  bankAccountMasked: Nullable(Type.String()),
  version: Type.Integer(),
  members: Type.Array(PersonSummary),
  relations: Type.Array(
    Type.Object({
      personId: Type.Integer(),
      relatedPersonId: Type.Integer(),
      kind: Type.String(),
      subtype: Nullable(Type.String()),
    }),
  ),
});
export type HouseholdDetail = Static<typeof HouseholdDetail>;

export const HouseholdRevealed = Type.Object({
  id: Type.Integer(),
  address: Nullable(Type.String({ description: 'the whole text' })),
  assets: Type.Record(Type.String(), Type.Unknown(), { description: 'the declared assets, whole' }),
});

// ---------- imports and exports ----------

export const ImportQuery = Type.Object({
  dryRun: Type.Optional(Type.Boolean({ default: false })),
  kind: Type.Optional(
    Type.Union([Type.Literal('registry'), Type.Literal('ledger')], { default: 'registry' }),
  ),
});

export const ImportCounts = Type.Object({
  rows: Type.Integer(),
  inserted: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  errors: Type.Integer(),
});

/** A child ledger import's review: the rows whose own answers disagree with the rules. */
export const LedgerReviewView = Type.Object(
  {
    asOf: Type.String({ description: 'the date the rules were applied on (the import day)' }),
    rowsChecked: Type.Integer(),
    count: Type.Integer({ description: 'disagreements (a row may have several)' }),
    disagreements: Type.Array(
      Type.Object({
        rowNumber: Type.Integer(),
        sheet: Nullable(
          Type.String({
            description:
              "the row's worksheet when the workbook's children are on several sheets (one per village; row numbers repeat), else null",
          }),
        ),
        personId: Type.Integer(),
        name: Type.String(),
        question: Type.Union([
          Type.Literal('left_behind_child'),
          Type.Literal('both_parents_migrant'),
          Type.Literal('one_migrant_other_unable'),
        ]),
        declared: Type.String({ description: 'the ledger: 是, 否, 是(无监护能力方: 母亲)' }),
        derived: Type.String({ description: 'the rules, in the same words' }),
        reasons: Type.Array(Type.String(), { description: "the rules' reasons, in the caller's language" }),
        text: Type.String({ description: '台账填写为留守儿童, 规则判定: 否, 因为 ...' }),
        groups: Type.Array(Type.String(), { description: 'the groups the rules derive for the child' }),
      }),
    ),
    report: Nullable(Type.Object({ xlsx: Type.String(), csv: Type.String() })),
  },
  { description: "child ledger imports: where the ledger's own answers disagree with the rules" },
);
export type LedgerReviewView = Static<typeof LedgerReviewView>;

export const ImportView = Type.Object({
  id: Type.Integer(),
  fileName: Type.String(),
  sha256: Type.String(),
  kind: Type.String(),
  dryRun: Type.Boolean(),
  status: Type.String(),
  message: Nullable(Type.String()),
  counts: ImportCounts,
  progress: Nullable(
    Type.Object({ done: Type.Integer(), total: Nullable(Type.Integer()), message: Nullable(Type.String()) }),
  ),
  errorReport: Nullable(Type.Object({ xlsx: Type.String(), csv: Type.String() })),
  review: Nullable(LedgerReviewView),
  jobId: Nullable(Type.Integer()),
  regionCode: Type.String(),
  createdAt: Type.String(),
  finishedAt: Nullable(Type.String()),
});
export type ImportView = Static<typeof ImportView>;

export const ImportListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(
    Type.String({ pattern: '^[0-9]{1,15}$', description: 'nextCursor of the previous page' }),
  ),
});
export type ImportListQuery = Static<typeof ImportListQuery>;

/** One past import in the list: what was imported, by whom and how it went; no row of the file. */
export const ImportListItem = Type.Object({
  id: Type.Integer(),
  fileName: Type.String(),
  kind: Type.String(),
  dryRun: Type.Boolean(),
  status: Type.String(),
  counts: ImportCounts,
  regionCode: Type.String({ description: 'the region the import was made for (the importer’s)' }),
  createdBy: Nullable(
    Type.Object(
      { id: Type.Integer(), username: Type.String(), displayName: Type.String() },
      { description: 'the user who submitted it; null for an API token' },
    ),
  ),
  createdAt: Type.String(),
  finishedAt: Nullable(Type.String()),
});
export type ImportListItem = Static<typeof ImportListItem>;

export const ImportList = Type.Object({
  items: Type.Array(ImportListItem),
  nextCursor: Nullable(Type.String()),
});
export type ImportList = Static<typeof ImportList>;

export const ErrorReportParams = Type.Object({
  id: Id,
  format: Type.Union([Type.Literal('xlsx'), Type.Literal('csv')]),
});

/** What the registry export of a region leaves out (GET /exports/registry/gaps). */
export const ExportGapsView = Type.Object({
  total: Type.Integer({ description: 'persons of the region the template cannot hold' }),
  persons: Type.Array(
    Type.Object({
      personId: Type.Integer(),
      name: Type.String(),
      hukouRegionCode: Type.String(),
      reasons: Type.Array(Type.String(), {
        description: "what the registry lacks for a row, in the caller's language",
      }),
    }),
    { description: 'the first of them by id (at most `limit`)' },
  ),
  linksWithoutIdNumber: Type.Integer({
    description:
      'links in force (parent, carer, spouse) that no row can state: the related person has no ID number',
  }),
});

export const ExportGapsQuery = Type.Object({
  region: AnyRegionCode,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
});

export const ExportQuery = Type.Object({
  region: AnyRegionCode,
  format: Type.Optional(Type.Union([Type.Literal('xlsx'), Type.Literal('csv')], { default: 'xlsx' })),
});
