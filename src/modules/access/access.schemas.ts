import { Type, type Static } from 'typebox';
import { REGION_CODE_PATTERN } from '../regions/index.ts';
import { PERMISSIONS, ROLES } from './access.policy.ts';
import { USERNAME_PATTERN } from './access.rules.ts';

const RoleName = Type.Enum(ROLES);
const PermissionName = Type.Enum(PERMISSIONS);
const NullableString = Type.Union([Type.String(), Type.Null()]);
const Region = Type.String({ pattern: REGION_CODE_PATTERN, examples: ['410225'] });
export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 }) });

// ---------- Sign-in ----------

export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
    totpCode: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })),
    recoveryCode: Type.Optional(Type.String({ minLength: 8, maxLength: 40 })),
  },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const Me = Type.Object({
  user: Type.Object({ id: Type.Integer(), username: Type.String(), displayName: Type.String() }),
  kind: Type.Union([Type.Literal('user'), Type.Literal('token')]),
  role: RoleName,
  roleLabel: Type.String(),
  regionCode: Type.String({ description: "'' for a national scope" }),
  regionName: NullableString,
  permissions: Type.Array(PermissionName),
  individualAccess: Type.Boolean(),
  mustChangePassword: Type.Boolean(),
  twoFactorEnabled: Type.Boolean(),
  twoFactorRequired: Type.Boolean({ description: 'administrators must use TOTP (not in the demo)' }),
  limitedTo: Type.Union(
    [Type.Literal('password_change'), Type.Literal('two_factor_enrollment'), Type.Null()],
    {
      description: 'a session that may only change the password or enrol TOTP before anything else',
    },
  ),
  csrfToken: NullableString,
});
export type Me = Static<typeof Me>;

export const ChangePasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 256 }),
    newPassword: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);

export const TotpEnrollment = Type.Object({
  otpauthUri: Type.String(),
  qrCodeDataUrl: Type.String({ description: 'a PNG data: URL of the otpauth URI' }),
  secret: Type.String({ description: 'base32, for typing in when the camera cannot be used' }),
});
export const TotpConfirmBody = Type.Object(
  {
    code: Type.String({ pattern: '^[0-9]{6}$' }),
    password: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'the account password, asked again: a session alone cannot bind an authenticator',
    }),
  },
  { additionalProperties: false },
);
export const RecoveryCodes = Type.Object({
  recoveryCodes: Type.Array(Type.String(), {
    description: 'shown once; each works once instead of a TOTP code',
  }),
});

export const Ok = Type.Object({ ok: Type.Literal(true) });
export const Revoked = Type.Object({
  revokedSessions: Type.Integer(),
  revokedTokens: Type.Integer({ description: "the user's own API tokens revoked with the sessions" }),
});

// ---------- Users ----------

export const UserView = Type.Object(
  {
    id: Type.Integer(),
    username: Type.String(),
    displayName: Type.String(),
    role: Type.Union([RoleName, Type.Null()]),
    regionCode: NullableString,
    individualAccess: Type.Boolean(),
    disabled: Type.Boolean(),
    locked: Type.Boolean(),
    mustChangePassword: Type.Boolean(),
    twoFactorEnabled: Type.Boolean(),
    twoFactorResetPending: Type.Boolean({
      description:
        'An administrator reset the two-factor enrolment: the user enrols again at the next sign-in',
    }),
    version: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'UserView' },
);
export type UserView = Static<typeof UserView>;

export const UserListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
});
export const UserList = Type.Object({ items: Type.Array(UserView), nextCursor: NullableString });

export const CreateUserBody = Type.Object(
  {
    username: Type.String({ pattern: USERNAME_PATTERN }),
    displayName: Type.String({ minLength: 1, maxLength: 100 }),
  },
  { additionalProperties: false },
);
export const UserWithPassword = Type.Object({
  user: UserView,
  temporaryPassword: Type.String({ description: 'shown once; the user must change it at first sign-in' }),
});
export const VersionBody = Type.Object(
  { version: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

export const AssignRoleBody = Type.Object(
  {
    role: RoleName,
    regionCode: Type.Union([Region, Type.Null()]),
    individualAccess: Type.Optional(Type.Boolean({ default: false })),
    version: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
export type AssignRoleBody = Static<typeof AssignRoleBody>;

// ---------- API tokens ----------

export const TokenView = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  prefix: Type.String(),
  role: RoleName,
  regionCode: NullableString,
  individualAccess: Type.Boolean(),
  expiresAt: Type.String({ format: 'date-time' }),
  revokedAt: NullableString,
  createdBy: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: NullableString,
});
export type TokenView = Static<typeof TokenView>;
export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: RoleName,
    regionCode: Type.Union([Region, Type.Null()]),
    individualAccess: Type.Optional(Type.Boolean({ default: false })),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, default: 90 })),
  },
  { additionalProperties: false },
);
export type CreateTokenBody = Static<typeof CreateTokenBody>;
export const CreateOwnTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, default: 90 })),
    password: Type.String({
      minLength: 1,
      maxLength: 256,
      description:
        'the account password, asked again: a session alone cannot mint a credential that outlives it',
    }),
  },
  {
    additionalProperties: false,
    description: "the token has the signed-in user's own role, region and grant, and acts as that user",
  },
);
export type CreateOwnTokenBody = Static<typeof CreateOwnTokenBody>;
export const CreatedToken = Type.Object({
  token: Type.String({ description: 'shown once; send as Authorization: Bearer <token>' }),
  item: TokenView,
});
export const TokenList = Type.Object({ items: Type.Array(TokenView) });

// ---------- Audit ----------

export const AuditQuery = Type.Object({
  actor: Type.Optional(Type.String({ maxLength: 100, description: 'username (exact)' })),
  action: Type.Optional(
    Type.String({ maxLength: 100, description: "an action, or a prefix ending in '.' (auth.)" }),
  ),
  region: Type.Optional(Region),
  result: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('error')])),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
});
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditItem = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actorKind: Type.String(),
  actorUserId: Type.Union([Type.Integer(), Type.Null()]),
  actorTokenId: Type.Union([Type.Integer(), Type.Null()]),
  actorUsername: NullableString,
  actorRole: NullableString,
  ip: NullableString,
  requestId: NullableString,
  action: Type.String(),
  entityType: NullableString,
  entityId: NullableString,
  regionCode: NullableString,
  result: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
});
export type AuditItem = Static<typeof AuditItem>;
export const AuditList = Type.Object({ items: Type.Array(AuditItem), nextCursor: NullableString });
export const AuditVerify = Type.Object({
  ok: Type.Boolean(),
  count: Type.Integer(),
  hashAlgorithm: Type.String(),
  lastId: Type.Union([Type.Integer(), Type.Null()]),
  lastHash: Type.String(),
  problem: Type.Union([Type.Object({ kind: Type.String(), message: Type.String() }), Type.Null()]),
});
