// Accounts, sign-in, roles, API tokens and the audit trail: the shapes the API returns (mirroring
// src/modules/access/access.schemas.ts and access.policy.ts), the calls, and the words for roles.
import { ApiError, api, apiDownload, type QueryValue } from '../api.ts';
import type { Lang, Localized } from '../i18n.ts';

export const ROLES = [
  'village_child_director',
  'village_staff',
  'township_supervisor',
  'township_staff',
  'county_staff',
  'county_approver',
  'prefecture_viewer',
  'province_viewer',
  'national_viewer',
  'mandatory_reporter',
  'service_provider',
  'system_admin',
  'security_admin',
  'audit_admin',
] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, Localized> = {
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

/** The three administrators (三员) are provisioned on the server console, never assigned here. */
export const ADMIN_ROLES: readonly Role[] = ['system_admin', 'security_admin', 'audit_admin'];
/** Roles above the county see aggregates only, unless granted individual access. */
export const VIEWER_ROLES: readonly Role[] = ['prefecture_viewer', 'province_viewer', 'national_viewer'];
/** Roles a security administrator may give to an account or an API token. */
export const ASSIGNABLE_ROLES: readonly Role[] = ROLES.filter((role) => !ADMIN_ROLES.includes(role));

/** The length of region code a role's home region must have; null: any level, or none. */
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

export function isRole(value: string | null | undefined): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleLabel(role: string | null | undefined, lang: Lang): string {
  return isRole(role) ? ROLE_LABELS[role][lang] : (role ?? '');
}

export type Limitation = 'password_change' | 'two_factor_enrollment';

export interface Me {
  user: { id: number; username: string; displayName: string };
  kind: 'user' | 'token';
  role: Role;
  /** In Chinese; the web app prefers ROLE_LABELS in the interface language. */
  roleLabel: string;
  /** '' for a national scope. */
  regionCode: string;
  regionName: string | null;
  permissions: string[];
  individualAccess: boolean;
  mustChangePassword: boolean;
  twoFactorEnabled: boolean;
  twoFactorRequired: boolean;
  /** A session that may only change the password or enrol TOTP before anything else. */
  limitedTo: Limitation | null;
  csrfToken: string | null;
}

export interface LoginInput {
  username: string;
  password: string;
  totpCode?: string;
  recoveryCode?: string;
}

export interface TotpEnrollment {
  otpauthUri: string;
  /** A PNG data: URL of the otpauth URI. */
  qrCodeDataUrl: string;
  /** Base32, for typing in when the camera cannot be used. */
  secret: string;
}

export interface UserView {
  id: number;
  username: string;
  displayName: string;
  role: Role | null;
  regionCode: string | null;
  individualAccess: boolean;
  disabled: boolean;
  locked: boolean;
  mustChangePassword: boolean;
  twoFactorEnabled: boolean;
  /** An administrator reset the two-factor enrolment; the user enrols again at the next sign-in. */
  twoFactorResetPending: boolean;
  version: number;
  createdAt: string;
}

export interface UserWithPassword {
  user: UserView;
  /** Shown once; the user must change it at first sign-in. */
  temporaryPassword: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface RoleAssignment {
  role: Role;
  regionCode: string | null;
  individualAccess?: boolean;
  version: number;
}

export interface TokenView {
  id: number;
  name: string;
  prefix: string;
  role: Role;
  regionCode: string | null;
  individualAccess: boolean;
  expiresAt: string;
  revokedAt: string | null;
  createdBy: number | null;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface NewToken {
  name: string;
  role: Role;
  regionCode: string | null;
  individualAccess?: boolean;
  expiresInDays?: number;
}

export type AuditResult = 'ok' | 'denied' | 'error';

export interface AuditQuery {
  /** A username, exact. */
  actor?: string;
  /** An action, or a prefix ending in '.' (`auth.`). */
  action?: string;
  region?: string;
  result?: AuditResult;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

export interface AuditItem {
  id: number;
  at: string;
  actorKind: string;
  actorUserId: number | null;
  actorTokenId: number | null;
  actorUsername: string | null;
  actorRole: string | null;
  ip: string | null;
  requestId: string | null;
  action: string;
  entityType: string | null;
  entityId: string | null;
  regionCode: string | null;
  result: string;
  details: Record<string, unknown>;
}

export interface AuditVerification {
  ok: boolean;
  count: number;
  hashAlgorithm: string;
  lastId: number | null;
  lastHash: string;
  problem: { kind: string; message: string } | null;
}

const asQuery = (query: object) => query as Record<string, QueryValue>;

export const authApi = {
  me: () => api.get<Me>('/auth/me'),
  login: (input: LoginInput) => api.post<Me>('/auth/login', input),
  logout: () => api.post<{ ok: true }>('/auth/logout'),
  logoutEverywhere: () => api.post<{ revokedSessions: number }>('/auth/logout-all'),
  changePassword: (currentPassword: string, newPassword: string) =>
    api.post<{ ok: true }>('/auth/change-password', { currentPassword, newPassword }),
  enrollTotp: () => api.post<TotpEnrollment>('/auth/2fa/enroll'),
  confirmTotp: (code: string, password: string) =>
    api.post<{ recoveryCodes: string[] }>('/auth/2fa/confirm', { code, password }),
};

export const usersApi = {
  list: (query: { q?: string; limit?: number; cursor?: string } = {}) =>
    api.get<Page<UserView>>('/users', { query: asQuery(query) }),
  create: (input: { username: string; displayName: string }) => api.post<UserWithPassword>('/users', input),
  setDisabled: (user: Pick<UserView, 'id' | 'version'>, disabled: boolean) =>
    api.post<UserView>(`/users/${user.id}/${disabled ? 'disable' : 'enable'}`, { version: user.version }),
  resetPassword: (id: number) => api.post<UserWithPassword>(`/users/${id}/reset-password`),
  assignRole: (id: number, input: RoleAssignment) => api.put<UserView>(`/users/${id}/role`, input),
  resetTwoFactor: (id: number) => api.post<UserView>(`/users/${id}/reset-2fa`),
};

export const tokensApi = {
  list: () => api.get<{ items: TokenView[] }>('/tokens').then((r) => r.items),
  create: (input: NewToken) => api.post<{ token: string; item: TokenView }>('/tokens', input),
  revoke: (id: number) => api.post<TokenView>(`/tokens/${id}/revoke`),
};

/** A business user's own API tokens (permission tokens.own): his role and region, acting as him. */
export const ownTokensApi = {
  list: () => api.get<{ items: TokenView[] }>('/auth/tokens').then((r) => r.items),
  /** The password is asked again: a session alone cannot mint a credential that outlives it. */
  create: (input: { name: string; expiresInDays: number; password: string }) =>
    api.post<{ token: string; item: TokenView }>('/auth/tokens', input),
  revoke: (id: number) => api.post<TokenView>(`/auth/tokens/${id}/revoke`),
};

export const auditApi = {
  search: (query: AuditQuery) => api.get<Page<AuditItem>>('/audit', { query: asQuery(query) }),
  export: (query: AuditQuery) => apiDownload('/audit/export', asQuery(query)),
  verify: () => api.get<AuditVerification>('/audit/verify'),
};

/** The server's message for each field it refused, for `form.setFields`. */
export function fieldErrors(error: unknown): { name: string; errors: string[] }[] {
  if (!(error instanceof ApiError)) return [];
  const byField = new Map<string, string[]>();
  for (const detail of error.details) {
    const name = detail.path.split('.')[0] ?? detail.path;
    byField.set(name, [...(byField.get(name) ?? []), detail.message]);
  }
  return [...byField].map(([name, errors]) => ({ name, errors }));
}

/** Copies text; falls back to a hidden text area where the Clipboard API is missing (plain HTTP). */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Fall through to the old way.
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  let copied: boolean;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** 2026-11-29 10:42 in the browser's time zone (the county's). */
export function formatDateTime(iso: string | null | undefined, withSeconds = false): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}${withSeconds ? `:${pad(d.getSeconds())}` : ''}`;
  return `${date} ${time}`;
}
