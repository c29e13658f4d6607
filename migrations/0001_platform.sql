-- Platform: background jobs. A job row is the unit of durable work: it survives restarts
-- (a running job whose lease ran out is taken again), carries its progress for people to watch,
-- and an idempotency key makes submitting the same work twice return the first job.
CREATE TABLE jobs (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  idempotency_key text UNIQUE,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  progress_done bigint NOT NULL DEFAULT 0,
  progress_total bigint,
  progress_message text,
  result jsonb,
  error text,
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 3,
  run_after timestamptz NOT NULL DEFAULT now(),
  locked_by text,
  locked_until timestamptz,
  created_by bigint,
  region_code text COLLATE "C",
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_claimable ON jobs (id) WHERE status IN ('queued', 'running');
