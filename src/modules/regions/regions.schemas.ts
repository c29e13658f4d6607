import { Type, type Static } from 'typebox';

export const REGION_CODE_PATTERN = '^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$';

export const RegionCode = Type.String({
  pattern: REGION_CODE_PATTERN,
  description: 'Region code: 2 (province), 4 (prefecture), 6 (county), 9 (township) or 12 (village) digits',
  examples: ['410225'],
});

export const RegionLevelName = Type.Union([
  Type.Literal('province'),
  Type.Literal('prefecture'),
  Type.Literal('county'),
  Type.Literal('township'),
  Type.Literal('village'),
]);

export const RegionSummary = Type.Object(
  {
    code: Type.String(),
    name: Type.String(),
    level: RegionLevelName,
    parentCode: Type.Union([Type.String(), Type.Null()]),
    rural: Type.Union([Type.Boolean(), Type.Null()], {
      description:
        'villages only: true for a villagers committee (村委会), false for a residents committee (居委会)',
    }),
    validFrom: Type.String({ format: 'date' }),
    validTo: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
    childCount: Type.Optional(Type.Integer()),
  },
  { $id: 'RegionSummary' },
);
export type RegionSummary = Static<typeof RegionSummary>;

export const RegionDetail = Type.Object({
  ...RegionSummary.properties,
  childCount: Type.Integer(),
  path: Type.Array(Type.Object({ code: Type.String(), name: Type.String() }), {
    description: 'ancestors from the province down to the parent',
  }),
});
export type RegionDetail = Static<typeof RegionDetail>;

export const RegionParams = Type.Object({ code: RegionCode });

export const RegionSearchQuery = Type.Object({
  q: Type.String({ minLength: 1, maxLength: 50, description: 'part of a region name' }),
  within: Type.Optional(RegionCode),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
});

export const RegionList = Type.Object({ items: Type.Array(RegionSummary) });
