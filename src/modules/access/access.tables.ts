import type { ColumnType, Generated } from 'kysely';
import type { Json, Timestamp } from '../../platform/platform.tables.ts';

export interface UsersTable {
  id: Generated<number>;
  username: string;
  display_name: string;
  role: string | null;
  region_code: string | null;
  individual_access: Generated<boolean>;
  password_hash: string;
  password_changed_at: Generated<Date>;
  must_change_password: Generated<boolean>;
  failed_attempts: Generated<number>;
  locked_until: Date | null;
  totp_secret: string | null;
  totp_enabled: Generated<boolean>;
  totp_last_step: number | null;
  /** Set by an administrator's reset of the two-factor enrolment: enrol again before anything else. */
  must_enroll_totp: Generated<boolean>;
  disabled: Generated<boolean>;
  demo: Generated<boolean>;
  created_by: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  version: Generated<number>;
}

export interface PasswordHistoryTable {
  id: Generated<number>;
  user_id: number;
  password_hash: string;
  created_at: Generated<Date>;
}

export interface RecoveryCodesTable {
  id: Generated<number>;
  user_id: number;
  code_hash: string;
  used_at: Date | null;
}

export interface SessionsTable {
  id: string;
  user_id: number;
  csrf_token: string;
  ip: string | null;
  created_at: Generated<Date>;
  last_seen_at: Generated<Date>;
  revoked_at: Date | null;
}

export interface ApiTokensTable {
  id: Generated<number>;
  name: string;
  token_hash: string;
  token_prefix: string;
  role: string;
  region_code: string | null;
  individual_access: Generated<boolean>;
  expires_at: Timestamp;
  revoked_at: Date | null;
  created_by: number | null;
  created_at: Generated<Date>;
  last_used_at: Date | null;
}

/** Failed sign-ins of usernames without an account (the hash of the normalized name). */
export interface LoginFailuresTable {
  name_hash: string;
  failed_attempts: Generated<number>;
  locked_until: Date | null;
  last_failed_at: Generated<Date>;
}

export interface AuditLogTable {
  id: number;
  at: Timestamp;
  actor_kind: 'user' | 'token' | 'system' | 'anonymous';
  actor_user_id: number | null;
  actor_token_id: number | null;
  actor_username: string | null;
  actor_role: string | null;
  ip: string | null;
  request_id: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  region_code: string | null;
  result: 'ok' | 'denied' | 'error';
  details: Json<Record<string, unknown>>;
  hash_alg: string;
  prev_hash: string;
  hash: string;
}

export interface AuditChainHeadTable {
  id: number;
  last_id: ColumnType<number, number | undefined, number>;
  last_hash: string;
}

export interface AccessTables {
  users: UsersTable;
  password_history: PasswordHistoryTable;
  recovery_codes: RecoveryCodesTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  login_failures: LoginFailuresTable;
  audit_log: AuditLogTable;
  audit_chain_head: AuditChainHeadTable;
}
