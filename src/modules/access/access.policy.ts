// Who may do what, and over which region (DOMAIN.md section 6). One table of roles and
// permissions; one function, requireAccess, that every service calls; one SQL helper that scopes
// every query listing people to the actor's region subtree. Nothing else decides access.
import { DomainError } from '../../platform/errors.ts';

export const ROLES = [
  'village_child_director', // 儿童主任
  'village_staff', // 村级协理员
  'township_supervisor', // 儿童督导员
  'township_staff', // 乡镇民政工作人员
  'county_staff', // 县级民政工作人员
  'county_approver', // 县级审批人
  'prefecture_viewer',
  'province_viewer',
  'national_viewer',
  'mandatory_reporter', // 强制报告责任人 (school, clinic, police liaison)
  'service_provider', // 社会组织 / 社工站
  'system_admin', // 系统管理员
  'security_admin', // 安全管理员
  'audit_admin', // 安全审计员
] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'regions.read',
  'persons.read', // individual records (persons, households) in scope
  'persons.write',
  'persons.reveal', // unmask ID numbers and phones (audited)
  'persons.merge',
  'imports.run',
  'exports.run',
  'groups.read',
  'groups.configure',
  'stats.read', // aggregated statistics in scope
  'worklist.read',
  'reports.create', // file a mandatory protection report
  'reports.own.read', // the status of one's own reports
  'users.manage', // system administrator: accounts
  'system.configure', // system administrator: system settings
  'roles.assign', // security administrator: roles and scopes
  'tokens.manage', // security administrator: API tokens (list and revoke all; create those without personal data)
  'tokens.own', // a business user's own API tokens, with the user's own role and region
  'security.configure', // security administrator: security policy
  'twofactor.reset', // security administrator: end another user's TOTP enrolment (lost phone)
  'audit.read', // audit administrator
  'audit.export',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const CHILD_WORK: Permission[] = [
  'regions.read',
  'persons.read',
  'persons.write',
  'groups.read',
  'stats.read',
  'worklist.read',
  'reports.create',
  'exports.run',
  'tokens.own',
];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  village_child_director: CHILD_WORK,
  village_staff: CHILD_WORK,
  township_supervisor: [...CHILD_WORK, 'imports.run'],
  township_staff: [...CHILD_WORK, 'imports.run', 'persons.merge'],
  county_staff: [...CHILD_WORK, 'imports.run', 'persons.merge', 'persons.reveal', 'groups.configure'],
  county_approver: [...CHILD_WORK, 'imports.run', 'persons.merge', 'persons.reveal', 'groups.configure'],
  prefecture_viewer: ['regions.read', 'stats.read', 'tokens.own'],
  province_viewer: ['regions.read', 'stats.read', 'tokens.own'],
  national_viewer: ['regions.read', 'stats.read', 'tokens.own'],
  mandatory_reporter: ['regions.read', 'reports.create', 'reports.own.read', 'tokens.own'],
  service_provider: ['regions.read', 'tokens.own'],
  // 三员分立: the three administrators share no duty and hold no business permission.
  system_admin: ['regions.read', 'users.manage', 'system.configure'],
  security_admin: ['regions.read', 'roles.assign', 'tokens.manage', 'security.configure', 'twofactor.reset'],
  audit_admin: ['regions.read', 'audit.read', 'audit.export'],
};

/** The level (region code length) a role's home region must have. null: any or none. */
export const ROLE_REGION_LENGTH: Record<Role, number | null> = {
  village_child_director: 12,
  village_staff: 12,
  township_supervisor: 9,
  township_staff: 9,
  county_staff: 6,
  county_approver: 6,
  prefecture_viewer: 4,
  province_viewer: 2,
  national_viewer: null,
  mandatory_reporter: null,
  service_provider: null,
  system_admin: null,
  security_admin: null,
  audit_admin: null,
};

/** Roles above the county see aggregates only, unless granted individual access. */
export const VIEWER_ROLES: readonly Role[] = ['prefecture_viewer', 'province_viewer', 'national_viewer'];

/**
 * What a grant of individual access adds to a viewer above the county (DOMAIN.md section 6,
 * "individual records only if granted"): reading persons, households and the persons of a group in
 * the viewer's region, masked like everyone's. Nothing to write, reveal, export or merge.
 */
export const INDIVIDUAL_READ: readonly Permission[] = ['persons.read', 'groups.read'];

/** A role's permissions, with the individual reads for a viewer granted them. */
export function permissionsOf(role: Role, individualAccess: boolean): Set<Permission> {
  const permissions = new Set<Permission>(ROLE_PERMISSIONS[role]);
  if (individualAccess && VIEWER_ROLES.includes(role)) for (const p of INDIVIDUAL_READ) permissions.add(p);
  return permissions;
}
export const ADMIN_ROLES: readonly Role[] = ['system_admin', 'security_admin', 'audit_admin'];

/**
 * The permissions over individual persons (their records, files, groups' members, imports, exports,
 * the worklist, protection reports) and the business work on them. A credential holding one of them
 * is a business credential: an API token with such a role belongs to the named business user who
 * created it for himself (`tokens.own`), never to an administrator (三员分立, DOMAIN.md section 6).
 */
export const PERSONAL_DATA_PERMISSIONS: readonly Permission[] = [
  'persons.read',
  'persons.write',
  'persons.reveal',
  'persons.merge',
  'imports.run',
  'exports.run',
  'groups.read',
  'groups.configure',
  'worklist.read',
  'reports.create',
  'reports.own.read',
];

/** Whether a role (with a viewer's grant of individual access) holds a permission over individual persons. */
export function holdsPersonalData(role: Role, individualAccess: boolean): boolean {
  const permissions = permissionsOf(role, individualAccess);
  return PERSONAL_DATA_PERMISSIONS.some((p) => permissions.has(p));
}

export const ROLE_LABELS: Record<Role, { zh: string; en: string }> = {
  village_child_director: { zh: '儿童主任', en: 'Village child director' },
  village_staff: { zh: '村级协理员', en: 'Village staff' },
  township_supervisor: { zh: '儿童督导员', en: 'Township child supervisor' },
  township_staff: { zh: '乡镇民政工作人员', en: 'Township civil-affairs staff' },
  county_staff: { zh: '县级民政工作人员', en: 'County civil-affairs staff' },
  county_approver: { zh: '县级审批人', en: 'County approver' },
  prefecture_viewer: { zh: '市级查看', en: 'Prefecture viewer' },
  province_viewer: { zh: '省级查看', en: 'Province viewer' },
  national_viewer: { zh: '国家级查看', en: 'National viewer' },
  mandatory_reporter: { zh: '强制报告责任人', en: 'Mandatory reporter' },
  service_provider: { zh: '服务机构', en: 'Service provider' },
  system_admin: { zh: '系统管理员', en: 'System administrator' },
  security_admin: { zh: '安全管理员', en: 'Security administrator' },
  audit_admin: { zh: '安全审计员', en: 'Audit administrator' },
};

export interface Actor {
  kind: 'user' | 'token';
  userId: number | null;
  tokenId: number | null;
  username: string;
  role: Role;
  /** Home region code; '' for a national scope. Individual records outside it are never visible. */
  regionCode: string;
  permissions: ReadonlySet<Permission>;
  /** Viewers above the county may be granted access to individual records. */
  individualAccess: boolean;
  ip: string;
  sessionId: string | null;
  /** The HTTP request this actor is acting in, recorded in audit entries. */
  requestId?: string | null;
}

export interface AccessTarget {
  /** The region the record belongs to (for a person: the hukou village). */
  regionCode?: string | null;
  /** The record concerns an individual (a person, a household, a case), not an aggregate. */
  individual?: boolean;
}

export function hasPermission(actor: Actor, permission: Permission): boolean {
  return actor.permissions.has(permission);
}

/** True when the actor's scope covers the region (its own region or below). */
export function inScope(actor: Actor, regionCode: string): boolean {
  return regionCode.startsWith(actor.regionCode);
}

export function canSeeIndividuals(actor: Actor): boolean {
  if (!actor.permissions.has('persons.read')) return false;
  if (VIEWER_ROLES.includes(actor.role)) return actor.individualAccess;
  return true;
}

/**
 * Throws FORBIDDEN unless the actor holds the permission and the target lies in its scope.
 * Callers that read a record by id call this with the record's region after loading it, and
 * answer NOT_FOUND rather than FORBIDDEN when the record is out of scope, so ids cannot be probed.
 */
export function requireAccess(actor: Actor, permission: Permission, target: AccessTarget = {}): void {
  if (!hasPermission(actor, permission)) throw new DomainError('FORBIDDEN');
  if (target.individual && !canSeeIndividuals(actor)) throw new DomainError('FORBIDDEN');
  if (target.regionCode !== undefined && target.regionCode !== null && !inScope(actor, target.regionCode))
    throw new DomainError('FORBIDDEN');
}

/**
 * What a route needs of the signed-in actor, declared on every non-public route (`config.permission`)
 * and checked before the request's body or query is parsed or validated: a role without it gets the
 * 403 (audited), never a 400 that names the fields it may not use. The services still check each
 * record's region; this is the first gate, not the only one.
 * - `signedIn`: any signed-in account (its own sign-in, password and two-factor routes);
 * - `all`: every one of these permissions, and with `individual` the right to see individual records
 *   (a viewer above the county only with a grant of individual access);
 * - `any`: one of these permissions.
 */
export type RoutePermission =
  { signedIn: true } | { all: readonly Permission[]; individual?: true } | { any: readonly Permission[] };

/** Throws FORBIDDEN unless the actor holds what the route declares. */
export function requireRoutePermission(actor: Actor, rule: RoutePermission): void {
  if ('signedIn' in rule) return;
  if ('any' in rule) {
    if (!rule.any.some((permission) => hasPermission(actor, permission))) throw new DomainError('FORBIDDEN');
    return;
  }
  for (const permission of rule.all)
    requireAccess(actor, permission, { individual: rule.individual === true });
}

/** The half-open range of region codes an actor may see: code >= from AND code < to. */
export function scopeRange(actor: Actor): [string, string] {
  return [actor.regionCode, actor.regionCode + '\uffff'];
}
