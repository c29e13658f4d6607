-- The count deltas (migration 0310) had two indexes on the same three columns: the primary key
-- (region_code, group_code, on_date), which only the triggers' ON CONFLICT used, and the index the
-- statistics read, (on_date, region_code) INCLUDE (group_code, delta). Every new delta row wrote both.
-- One primary key in the readers' order, carrying the delta, serves both: ON CONFLICT infers a unique
-- index from its set of columns, not their order, and the readers' scans stay index-only.
ALTER TABLE group_count_deltas DROP CONSTRAINT group_count_deltas_pkey;
DROP INDEX group_count_deltas_date;
ALTER TABLE group_count_deltas ADD PRIMARY KEY (on_date, region_code, group_code) INCLUDE (delta);
