-- Access: accounts, sessions, API tokens and the append-only audit trail (DOMAIN.md section 6).
-- Secrets are never stored as given: passwords as argon2id hashes, session ids, API tokens and
-- recovery codes as SHA-256 digests (they carry 128+ bits of randomness, so a fast hash suffices).

CREATE TABLE users (
  id bigserial PRIMARY KEY,
  username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  -- NULL until the security administrator assigns one (system administrators create accounts
  -- without role-assignment privileges: 三员分立).
  role text CHECK (role IN (
    'village_child_director', 'village_staff', 'township_supervisor', 'township_staff',
    'county_staff', 'county_approver', 'prefecture_viewer', 'province_viewer', 'national_viewer',
    'mandatory_reporter', 'service_provider', 'system_admin', 'security_admin', 'audit_admin')),
  region_code text COLLATE "C" REFERENCES regions (code),
  individual_access boolean NOT NULL DEFAULT false,
  password_hash text NOT NULL,
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  must_change_password boolean NOT NULL DEFAULT true,
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  totp_secret text,
  totp_enabled boolean NOT NULL DEFAULT false,
  -- The last accepted TOTP time step: a code is accepted once only (RFC 6238 section 5.2).
  totp_last_step bigint,
  disabled boolean NOT NULL DEFAULT false,
  created_by bigint REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  version integer NOT NULL DEFAULT 1
);

-- The current and previous password hashes; the newest five are kept.
CREATE TABLE password_history (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_history_user ON password_history (user_id, id DESC);

CREATE TABLE recovery_codes (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  code_hash text NOT NULL,
  used_at timestamptz
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

CREATE TABLE sessions (
  id text PRIMARY KEY, -- sha256 hex of the 256-bit cookie value
  user_id bigint NOT NULL REFERENCES users (id),
  csrf_token text NOT NULL,
  ip text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE api_tokens (
  id bigserial PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  token_hash text NOT NULL UNIQUE,
  -- The first characters of the token, enough to recognise it in a list, not to use it.
  token_prefix text NOT NULL,
  role text NOT NULL CHECK (role IN (
    'village_child_director', 'village_staff', 'township_supervisor', 'township_staff',
    'county_staff', 'county_approver', 'prefecture_viewer', 'province_viewer', 'national_viewer',
    'mandatory_reporter', 'service_provider')),
  region_code text COLLATE "C" REFERENCES regions (code),
  individual_access boolean NOT NULL DEFAULT false,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  created_by bigint REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);

-- The audit trail. Each entry carries the hash of its predecessor and its own hash over
-- prev_hash + the canonical JSON of the entry, so an edited, inserted or deleted entry breaks the
-- chain (`shouhu audit verify`). Writers serialise on the one row of audit_chain_head.
CREATE TABLE audit_log (
  id bigint PRIMARY KEY,
  at timestamptz NOT NULL,
  actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'token', 'system', 'anonymous')),
  actor_user_id bigint,
  actor_token_id bigint,
  actor_username text,
  actor_role text,
  ip text,
  request_id text,
  action text NOT NULL,
  entity_type text,
  entity_id text,
  region_code text COLLATE "C",
  result text NOT NULL CHECK (result IN ('ok', 'denied', 'error')),
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  hash_alg text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_username, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_region ON audit_log (region_code, id);

CREATE TABLE audit_chain_head (
  id integer PRIMARY KEY CHECK (id = 1),
  last_id bigint NOT NULL DEFAULT 0,
  last_hash text NOT NULL
);
INSERT INTO audit_chain_head (id, last_id, last_hash) VALUES (1, 0, repeat('0', 64));

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
