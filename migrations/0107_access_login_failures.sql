-- Failed sign-ins for usernames that have no account, counted in the database like users.failed_attempts,
-- so that an unknown name locks after the same failures as a known one in every server process and
-- across restarts: the answer never tells whether an account exists. The name is kept as a SHA-256
-- hash only (people type passwords into the name field).
CREATE TABLE login_failures (
  name_hash text PRIMARY KEY,
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  last_failed_at timestamptz NOT NULL DEFAULT now()
);
