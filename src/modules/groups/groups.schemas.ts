import { Type, type Static } from 'typebox';
import { REGION_CODE_PATTERN } from '../regions/index.ts';
import { GROUP_CODES } from './groups.rules.ts';
import { MAX_DIAGNOSES, MAX_DIAGNOSIS_LENGTH } from './groups.settings.ts';

const IsoDate = Type.String({ format: 'date', description: 'YYYY-MM-DD' });
const RegionCodeParam = Type.String({
  pattern: REGION_CODE_PATTERN,
  description: 'Region code (2-12 digits)',
});
const GroupCodeSchema = Type.Union(GROUP_CODES.map((code) => Type.Literal(code)));
// Ages in years and durations in months have a ceiling: a setting of 2^53 or 1e300 is no setting.
const Age = Type.Integer({ minimum: 0, maximum: 150 });
const Months = Type.Integer({ minimum: 0, maximum: 1200 });
const Grade = Type.Integer({ minimum: 1, maximum: 4 });

/** A partial GroupsConfig: the settings a region changes; the rest comes from the regions above it. */
export const ConfigDocument = Type.Object(
  {
    leftBehindChildUnderAge: Type.Optional(Age),
    leftBehindChildMinMigrationMonths: Type.Optional(Months),
    leftBehindChildOtherParentMinMonths: Type.Optional(Months),
    minorUnderAge: Type.Optional(Age),
    severeDisabilityMaxGrade: Type.Optional(Grade),
    severeDisabilityCognitiveCategories: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 7 }))),
    severeDisabilityCognitiveMaxGrade: Type.Optional(Grade),
    libertyRestrictionMinMonths: Type.Optional(Months),
    lostContactMinMonths: Type.Optional(Months),
    seriousIllnessDiagnoses: Type.Optional(
      Type.Array(Type.String({ maxLength: MAX_DIAGNOSIS_LENGTH }), {
        description:
          "Serious illness (重病) as the county defines it: the diseases that count, matched with a record's " +
          'diagnosis regardless of width, spaces and Latin case; empty (the default): every serious illness ' +
          `on record counts. At most ${MAX_DIAGNOSES}, each once.`,
      }),
    ),
    elderlyMinAge: Type.Optional(Age),
    leftBehindElderlyMinMigrationMonths: Type.Optional(Months),
    leftBehindWomanMinMigrationMonths: Type.Optional(Months),
    leftBehindWomanAgeRange: Type.Optional(
      Type.Union([
        Type.Object(
          {
            minAge: Type.Union([Age, Type.Null()]),
            maxAge: Type.Union([Age, Type.Null()]),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    highAgeBandStarts: Type.Optional(Type.Array(Age, { minItems: 1 })),
    disabledElderlySelfCareLevels: Type.Optional(
      Type.Array(Type.Union(['intact', 'mild', 'moderate', 'severe'].map((v) => Type.Literal(v)))),
    ),
    smallCellThreshold: Type.Optional(Type.Integer({ minimum: 3, maximum: 100 })),
  },
  { additionalProperties: false },
);

export const ConfigQuery = Type.Object({
  region: Type.Optional(RegionCodeParam),
  asOf: Type.Optional(IsoDate),
});

export const ConfigBody = Type.Object(
  {
    config: ConfigDocument,
    validFrom: Type.Optional(IsoDate),
    version: Type.Integer({
      minimum: 0,
      description: "The version of the region's configuration the change was made on (0 when it has none)",
    }),
  },
  { additionalProperties: false },
);
export type ConfigBody = Static<typeof ConfigBody>;

export const ConfigView = Type.Object({
  regionCode: Type.String(),
  asOf: Type.String(),
  effective: Type.Record(Type.String(), Type.Unknown(), {
    description:
      'The configuration in force for this region on asOf (defaults and every region above merged)',
  }),
  own: Type.Union([
    Type.Object({
      version: Type.Integer(),
      validFrom: Type.String(),
      validTo: Type.Union([Type.String(), Type.Null()]),
      config: Type.Record(Type.String(), Type.Unknown()),
      changedBy: Type.Union([Type.Integer(), Type.Null()]),
      changedAt: Type.String(),
    }),
    Type.Null(),
  ]),
  version: Type.Integer({
    description: "The region's current version (0 when it has none): send it back with a change",
  }),
  evaluationJobId: Type.Optional(Type.Integer()),
});
export type ConfigView = Static<typeof ConfigView>;

export const StatCell = Type.Object({
  value: Type.Union([Type.Integer(), Type.Null()]),
  suppressed: Type.Boolean(),
  display: Type.String({
    description: 'The number, "<5" for a small count, "*" for a cell hidden to protect one',
  }),
});

export const StatsQuery = Type.Object({
  region: Type.Optional(RegionCodeParam),
  asOf: Type.Optional(IsoDate),
});

export const StatsRow = Type.Object({
  regionCode: Type.String(),
  regionName: Type.String(),
  counts: Type.Record(Type.String(), StatCell),
});

export const StatsTable = Type.Object({
  region: Type.Object({ code: Type.String(), name: Type.String() }),
  asOf: Type.String(),
  groups: Type.Array(Type.Object({ code: Type.String(), zh: Type.String(), en: Type.String() })),
  rows: Type.Array(StatsRow),
  total: StatsRow,
  suppressed: Type.Boolean({ description: 'Small cells are suppressed for this reader' }),
  threshold: Type.Integer(),
});
export type StatsTable = Static<typeof StatsTable>;

export const MonthlyQuery = Type.Object({
  region: Type.Optional(RegionCodeParam),
  from: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}$', description: 'First month, YYYY-MM' }),
  to: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}$', description: 'Last month, YYYY-MM' }),
});

export const MonthlySeries = Type.Object({
  region: Type.Object({ code: Type.String(), name: Type.String() }),
  months: Type.Array(
    Type.Object({
      month: Type.String(),
      monthEnd: Type.String(),
      counts: Type.Record(Type.String(), StatCell),
    }),
  ),
  suppressed: Type.Boolean(),
});
export type MonthlySeries = Static<typeof MonthlySeries>;

export const MembersQuery = Type.Object({
  region: Type.Optional(RegionCodeParam),
  group: GroupCodeSchema,
  asOf: Type.Optional(IsoDate),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
});

export const MembersExportQuery = Type.Object({
  region: Type.Optional(RegionCodeParam),
  group: GroupCodeSchema,
  asOf: Type.Optional(IsoDate),
});

export const MemberItem = Type.Object({
  personId: Type.Integer(),
  name: Type.String(),
  idNumberMasked: Type.Union([Type.String(), Type.Null()]),
  sex: Type.Union([Type.Integer(), Type.Null()]),
  birthDate: Type.Union([Type.String(), Type.Null()]),
  hukouRegionCode: Type.String(),
  since: Type.String(),
  subCategory: Type.Union([Type.String(), Type.Null()]),
  reasons: Type.Object({ zh: Type.Array(Type.String()), en: Type.Array(Type.String()) }),
});
export const MemberList = Type.Object({
  items: Type.Array(MemberItem),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type MemberList = Static<typeof MemberList>;

export const WorklistQuery = Type.Object({
  region: Type.Optional(RegionCodeParam),
  status: Type.Optional(
    Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('all')]),
  ),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
});

export const WorklistItem = Type.Object({
  id: Type.Integer(),
  personId: Type.Integer(),
  regionCode: Type.String(),
  kind: Type.Union([Type.Literal('group_entered'), Type.Literal('group_left')]),
  groupCode: Type.String(),
  onDate: Type.String(),
  text: Type.Object({ zh: Type.String(), en: Type.String() }),
  createdAt: Type.String(),
  acknowledgedAt: Type.Union([Type.String(), Type.Null()]),
  acknowledgedBy: Type.Union([Type.Integer(), Type.Null()]),
});
export type WorklistItem = Static<typeof WorklistItem>;
export const WorklistPage = Type.Object({
  items: Type.Array(WorklistItem),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export const WorklistParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) });

export const EvaluateBody = Type.Object(
  { region: Type.Optional(RegionCodeParam), asOf: Type.Optional(IsoDate) },
  { additionalProperties: false },
);
export const JobParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) });
export const JobRef = Type.Object({ jobId: Type.Integer() });
export const JobStatus = Type.Object({
  id: Type.Integer(),
  status: Type.String(),
  progress: Type.Object({
    done: Type.Number(),
    total: Type.Union([Type.Number(), Type.Null()]),
    message: Type.Union([Type.String(), Type.Null()]),
  }),
  result: Type.Unknown(),
  error: Type.Union([Type.String(), Type.Null()]),
});
