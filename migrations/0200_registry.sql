-- The population registry (户籍人口): households, persons, the links between persons and the
-- effective-dated facts about them. Region codes use the "C" collation so that a scope (a code
-- prefix) is a range scan. History is never overwritten: a wrong fact is retracted, not deleted.

CREATE TABLE households (
  id bigserial PRIMARY KEY,
  county_code text COLLATE "C" NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
  household_no text NOT NULL,
  head_person_id bigint,
  address text,
  hukou_region_code text COLLATE "C" NOT NULL CHECK (hukou_region_code ~ '^[0-9]{12}$'),
  annual_income_fen bigint CHECK (annual_income_fen IS NULL OR annual_income_fen >= 0),
  assets jsonb NOT NULL DEFAULT '{}'::jsonb,
  bank_account_masked text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (left(hukou_region_code, 6) = county_code),
  UNIQUE (county_code, household_no)
);
CREATE INDEX households_region ON households (hukou_region_code, id);

CREATE TABLE persons (
  id bigserial PRIMARY KEY,
  -- One ID number is one person, whatever household, import or county it arrives through.
  id_number text COLLATE "C" UNIQUE CHECK (id_number IS NULL OR id_number ~ '^[0-9]{17}[0-9X]$'),
  id_tail text COLLATE "C" GENERATED ALWAYS AS (right(id_number, 6)) STORED,
  no_id_reason text,
  birth_cert_no text,
  name text NOT NULL CHECK (name <> ''),
  name_pinyin text COLLATE "C" NOT NULL DEFAULT '',
  name_initials text COLLATE "C" NOT NULL DEFAULT '',
  sex smallint CHECK (sex IN (1, 2)),
  birth_date date,
  ethnicity text,
  phone text,
  hukou_region_code text COLLATE "C" NOT NULL CHECK (hukou_region_code ~ '^[0-9]{12}$'),
  hukou_type text,
  residence_region_code text COLLATE "C"
    CHECK (residence_region_code IS NULL OR residence_region_code ~ '^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$'),
  household_id bigint REFERENCES households (id),
  relation_to_head text,
  version integer NOT NULL DEFAULT 1,
  merged_into bigint REFERENCES persons (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (id_number IS NOT NULL OR no_id_reason IS NOT NULL)
);
ALTER TABLE households ADD CONSTRAINT households_head FOREIGN KEY (head_person_id) REFERENCES persons (id);
CREATE INDEX persons_scope ON persons (hukou_region_code, id);
CREATE INDEX persons_id_tail ON persons (id_tail);
CREATE INDEX persons_name ON persons (name text_pattern_ops);
CREATE INDEX persons_name_pinyin ON persons (name_pinyin);
CREATE INDEX persons_name_initials ON persons (name_initials);
CREATE INDEX persons_phone ON persons (phone) WHERE phone IS NOT NULL;
CREATE INDEX persons_household ON persons (household_id, name, birth_date);
CREATE INDEX persons_name_birth ON persons (name, birth_date) WHERE id_number IS NULL;

-- Explicit person-to-person links: relation-to-head cannot find a child's parents in a
-- three-generation household. Read as "related_person is person's <kind>". Spouse links are
-- stored once, with the smaller id as person_id.
CREATE TABLE person_relations (
  id bigserial PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES persons (id),
  related_person_id bigint NOT NULL REFERENCES persons (id),
  kind text NOT NULL CHECK (kind IN ('parent', 'spouse', 'guardian', 'carer')),
  subtype text CHECK (subtype IS NULL OR subtype IN ('biological', 'adoptive', 'step')),
  valid_from date,
  valid_to date,
  -- carers only: the signed entrusted-guardianship form (委托监护确认书) and the fitness check
  entrustment_form_date date,
  carer_fitness_checked_on date,
  carer_fit boolean,
  source text NOT NULL DEFAULT 'manual',
  recorded_by bigint,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CHECK (person_id <> related_person_id),
  CHECK (kind = 'parent' OR subtype IS NULL),
  CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from)
);
CREATE UNIQUE INDEX person_relations_current ON person_relations (person_id, related_person_id, kind) WHERE valid_to IS NULL;
CREATE INDEX person_relations_related ON person_relations (related_person_id);

-- Effective-dated facts [valid_from, valid_to). A correction retracts the wrong row (kept, with
-- who and when) and records a new one, so every "as of D" question has one answer and the history
-- of what was believed stays readable.
CREATE TABLE person_facts (
  id bigserial PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES persons (id),
  kind text NOT NULL CHECK (kind IN ('migration', 'liberty_restriction', 'lost_contact', 'guardianship_revoked',
    'deported', 'death', 'declared_missing', 'declared_dead', 'disability', 'serious_illness', 'schooling',
    'self_care', 'living_arrangement', 'family_planning_special', 'assistance', 'guardianship_failure')),
  valid_from date NOT NULL,
  valid_to date,
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  source text NOT NULL DEFAULT 'manual',
  recorded_by bigint,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  retracted_at timestamptz,
  retracted_by bigint,
  retraction_reason text,
  CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX person_facts_person ON person_facts (person_id, kind) WHERE retracted_at IS NULL;
CREATE INDEX person_facts_kind ON person_facts (kind, person_id) WHERE retracted_at IS NULL;

-- A file brought in (registry template or child ledger): one row per submission, its job and its
-- outcome. The same file from the same user with the same dry-run flag is the same import.
CREATE TABLE imports (
  id bigserial PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  file_name text NOT NULL,
  stored_path text NOT NULL,
  sha256 text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('registry', 'ledger')),
  dry_run boolean NOT NULL DEFAULT false,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'rejected')),
  counts jsonb NOT NULL DEFAULT '{"rows":0,"inserted":0,"updated":0,"unchanged":0,"errors":0}'::jsonb,
  message text,
  error_report_path text,
  job_id bigint,
  created_by bigint,
  region_code text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
