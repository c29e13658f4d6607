-- Regions of all China, five levels (GB/T 2260 and the statistical division codes). The code is
-- hierarchical by prefix (41 > 4102 > 410225 > 410225001 > 410225001001), so a subtree is a range
-- of codes; the "C" collation keeps those range scans on the primary key index.
CREATE TABLE regions (
  code text COLLATE "C" PRIMARY KEY CHECK (code ~ '^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$'),
  name text NOT NULL,
  level smallint NOT NULL CHECK (level BETWEEN 1 AND 5),
  parent_code text COLLATE "C" REFERENCES regions (code),
  -- villages only: digits 10-12 in 200-399 are villagers' committees (村委会), 001-199 residents' (居委会)
  rural boolean,
  valid_from date NOT NULL DEFAULT DATE '2000-01-01',
  valid_to date,
  CHECK ((level = 1) = (parent_code IS NULL))
);
CREATE INDEX regions_parent ON regions (parent_code, code);
CREATE INDEX regions_name ON regions (name);

-- Rows of a load in progress; moved into regions in one transaction.
CREATE UNLOGGED TABLE regions_staging (
  load_id text NOT NULL,
  code text COLLATE "C" NOT NULL,
  name text NOT NULL,
  parent_code text COLLATE "C"
);
