-- Care groups (DOMAIN.md section 2): derived from the registry, never typed in by hand.
-- group_config holds each region's thresholds, versioned and effective-dated; group_memberships
-- the periods in which a person belonged to a group, with the reasons; worklist_items tell the
-- village and township staff who entered or left a group.

CREATE TABLE group_config (
  id bigserial PRIMARY KEY,
  -- '' is the national default; otherwise any region level. The most specific region wins.
  region_code text COLLATE "C" NOT NULL
    CHECK (region_code = '' OR region_code ~ '^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$'),
  valid_from date NOT NULL,
  valid_to date,
  -- A partial GroupsConfig, merged over the defaults in code.
  config jsonb NOT NULL DEFAULT '{}'::jsonb,
  version integer NOT NULL CHECK (version >= 1),
  changed_by bigint,
  changed_at timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_to IS NULL OR valid_to > valid_from),
  UNIQUE (region_code, version)
);
CREATE INDEX group_config_region ON group_config (region_code, valid_from);

CREATE TABLE group_memberships (
  id bigserial PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES persons (id),
  group_code text NOT NULL CHECK (group_code IN ('left_behind_child', 'de_facto_unsupported_child', 'orphan',
    'distressed_child', 'left_behind_elderly', 'left_behind_woman', 'high_age_elderly', 'disabled_elderly',
    'special_difficulty_elderly')),
  sub_category text,
  since date NOT NULL,
  -- NULL: still a member. Half-open like the facts: the person belonged on since <= d < until.
  until date,
  reasons jsonb NOT NULL DEFAULT '{"zh":[],"en":[]}'::jsonb,
  evaluated_at timestamptz NOT NULL DEFAULT now(),
  -- The person's hukou village: scoping and statistics read this, not the persons table.
  region_code text COLLATE "C" NOT NULL,
  CHECK (until IS NULL OR until >= since)
);
CREATE UNIQUE INDEX group_memberships_open ON group_memberships (person_id, group_code) WHERE until IS NULL;
CREATE INDEX group_memberships_person ON group_memberships (person_id, group_code, since);
CREATE INDEX group_memberships_region ON group_memberships (region_code, group_code, since) INCLUDE (until);

CREATE TABLE worklist_items (
  id bigserial PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES persons (id),
  region_code text COLLATE "C" NOT NULL,
  kind text NOT NULL CHECK (kind IN ('group_entered', 'group_left')),
  group_code text NOT NULL,
  -- The date the person entered (since) or left (until) the group.
  on_date date NOT NULL,
  text_zh text NOT NULL,
  text_en text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  acknowledged_at timestamptz,
  acknowledged_by bigint
);
CREATE INDEX worklist_items_region ON worklist_items (region_code, id);
CREATE INDEX worklist_items_open ON worklist_items (region_code, id) WHERE acknowledged_at IS NULL;

-- Evaluation reads each batch's parent and spouse links by person (the registry's own index on
-- person_id covers current links only).
CREATE INDEX person_relations_person_kind ON person_relations (person_id, kind);
-- "Does this child have an adoptive parent?" is asked for every parent link read; adoptions are
-- few, so this index stays tiny and the question costs a probe.
CREATE INDEX person_relations_adoptive ON person_relations (person_id) WHERE kind = 'parent' AND subtype = 'adoptive';
