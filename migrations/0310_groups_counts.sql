-- Group statistics without scanning the membership periods. A period [since, until) of a person in a
-- village counts +1 from `since` and -1 from `until`, so the number of members of a group in a
-- village on a date D is the sum of that village's deltas on or before D. group_count_deltas keeps
-- those deltas summed per (village, group, day); group_count_open keeps the number of open periods
-- per (village, group), which is the sum of all of its deltas. A count on D is then either
-- open - sum(deltas after D) (few rows for recent dates) or sum(deltas up to D) (few rows for old
-- dates). Triggers on group_memberships keep both in the same transaction as every change to the
-- periods, whichever code path makes it.

CREATE TABLE group_count_deltas (
  region_code text COLLATE "C" NOT NULL,
  group_code text NOT NULL,
  on_date date NOT NULL,
  delta integer NOT NULL,
  PRIMARY KEY (region_code, group_code, on_date)
);
-- Reads take the deltas after (or up to) a date, for a subtree: the date leads.
CREATE INDEX group_count_deltas_date ON group_count_deltas (on_date, region_code) INCLUDE (group_code, delta);

CREATE TABLE group_count_open (
  region_code text COLLATE "C" NOT NULL,
  group_code text NOT NULL,
  open integer NOT NULL,
  PRIMARY KEY (region_code, group_code)
);

-- Each adds the periods it sees (+1 for new rows, -1 for old rows) to both tables.
CREATE FUNCTION group_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Concurrent transactions (evaluation batches in parallel) would otherwise lock the same count rows
  -- in different orders and could deadlock: they take turns from here to their commit.
  PERFORM pg_advisory_xact_lock(310);
  WITH c AS (SELECT region_code, group_code, since, until, 1 AS sign FROM new_rows),
  deltas AS (
    INSERT INTO group_count_deltas AS d (region_code, group_code, on_date, delta)
    SELECT region_code, group_code, on_date, sum(delta)::int FROM (
      SELECT region_code, group_code, since AS on_date, sign AS delta FROM c
      UNION ALL
      SELECT region_code, group_code, until, -sign FROM c WHERE until IS NOT NULL
    ) x GROUP BY 1, 2, 3 HAVING sum(delta) <> 0
    ON CONFLICT (region_code, group_code, on_date) DO UPDATE SET delta = d.delta + excluded.delta)
  INSERT INTO group_count_open AS o (region_code, group_code, open)
    SELECT region_code, group_code, sum(sign)::int FROM c WHERE until IS NULL
    GROUP BY 1, 2 HAVING sum(sign) <> 0
  ON CONFLICT (region_code, group_code) DO UPDATE SET open = o.open + excluded.open;
  RETURN NULL;
END
$$;
CREATE FUNCTION group_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Concurrent transactions (evaluation batches in parallel) would otherwise lock the same count rows
  -- in different orders and could deadlock: they take turns from here to their commit.
  PERFORM pg_advisory_xact_lock(310);
  WITH c AS (SELECT region_code, group_code, since, until, -1 AS sign FROM old_rows),
  deltas AS (
    INSERT INTO group_count_deltas AS d (region_code, group_code, on_date, delta)
    SELECT region_code, group_code, on_date, sum(delta)::int FROM (
      SELECT region_code, group_code, since AS on_date, sign AS delta FROM c
      UNION ALL
      SELECT region_code, group_code, until, -sign FROM c WHERE until IS NOT NULL
    ) x GROUP BY 1, 2, 3 HAVING sum(delta) <> 0
    ON CONFLICT (region_code, group_code, on_date) DO UPDATE SET delta = d.delta + excluded.delta)
  INSERT INTO group_count_open AS o (region_code, group_code, open)
    SELECT region_code, group_code, sum(sign)::int FROM c WHERE until IS NULL
    GROUP BY 1, 2 HAVING sum(sign) <> 0
  ON CONFLICT (region_code, group_code) DO UPDATE SET open = o.open + excluded.open;
  RETURN NULL;
END
$$;
-- An update takes the old rows off and adds the new ones. Where no counted field changed (most updates
-- rewrite reasons or evaluated_at) the two cancel out in the sums and nothing is written. No join of
-- the two transition tables: they have no index, and a join of thousands of rows was quadratic.
CREATE FUNCTION group_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Concurrent transactions (evaluation batches in parallel) would otherwise lock the same count rows
  -- in different orders and could deadlock: they take turns from here to their commit.
  PERFORM pg_advisory_xact_lock(310);
  WITH c AS (
    SELECT region_code, group_code, since, until, -1 AS sign FROM old_rows
    UNION ALL
    SELECT region_code, group_code, since, until, 1 FROM new_rows),
  deltas AS (
    INSERT INTO group_count_deltas AS d (region_code, group_code, on_date, delta)
    SELECT region_code, group_code, on_date, sum(delta)::int FROM (
      SELECT region_code, group_code, since AS on_date, sign AS delta FROM c
      UNION ALL
      SELECT region_code, group_code, until, -sign FROM c WHERE until IS NOT NULL
    ) x GROUP BY 1, 2, 3 HAVING sum(delta) <> 0
    ON CONFLICT (region_code, group_code, on_date) DO UPDATE SET delta = d.delta + excluded.delta)
  INSERT INTO group_count_open AS o (region_code, group_code, open)
    SELECT region_code, group_code, sum(sign)::int FROM c WHERE until IS NULL
    GROUP BY 1, 2 HAVING sum(sign) <> 0
  ON CONFLICT (region_code, group_code) DO UPDATE SET open = o.open + excluded.open;
  RETURN NULL;
END
$$;

CREATE TRIGGER group_memberships_counts_insert AFTER INSERT ON group_memberships
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION group_counts_insert();
CREATE TRIGGER group_memberships_counts_update AFTER UPDATE ON group_memberships
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION group_counts_update();
CREATE TRIGGER group_memberships_counts_delete AFTER DELETE ON group_memberships
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION group_counts_delete();

CREATE FUNCTION group_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM group_count_deltas;
  DELETE FROM group_count_open;
  RETURN NULL;
END
$$;
CREATE TRIGGER group_memberships_counts_truncate AFTER TRUNCATE ON group_memberships
  FOR EACH STATEMENT EXECUTE FUNCTION group_counts_truncate();

-- The periods already stored.
INSERT INTO group_count_deltas (region_code, group_code, on_date, delta)
  SELECT region_code, group_code, on_date, sum(delta)::int FROM (
    SELECT region_code, group_code, since AS on_date, 1 AS delta FROM group_memberships
    UNION ALL
    SELECT region_code, group_code, until, -1 FROM group_memberships WHERE until IS NOT NULL
  ) x GROUP BY 1, 2, 3 HAVING sum(delta) <> 0;
INSERT INTO group_count_open (region_code, group_code, open)
  SELECT region_code, group_code, count(*)::int FROM group_memberships WHERE until IS NULL
  GROUP BY 1, 2;
