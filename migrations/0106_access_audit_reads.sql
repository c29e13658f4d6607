-- Reads' audit entries (recordRead in src/modules/access/audit.ts). One call appends a batch of
-- entries already chained by the caller, provided the chain head is still the one the caller
-- chained onto (compare-and-set on the head row; 0 when another writer got there first, and
-- nothing is written), and commits without waiting for the disk flush (a read changes nothing:
-- DECISIONS.md "Reads are audited without waiting for the disk"). A function so that its plans
-- are kept per connection rather than made again for every read.
CREATE FUNCTION audit_append_reads(
  expected_id bigint,
  expected_hash text,
  new_id bigint,
  new_hash text,
  entries jsonb
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  written integer;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  UPDATE audit_chain_head SET last_id = new_id, last_hash = new_hash
    WHERE id = 1 AND last_id = expected_id AND last_hash = expected_hash;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  INSERT INTO audit_log (id, at, actor_kind, actor_user_id, actor_token_id, actor_username, actor_role,
      ip, request_id, action, entity_type, entity_id, region_code, result, details, hash_alg,
      prev_hash, hash)
    SELECT id, at, actor_kind, actor_user_id, actor_token_id, actor_username, actor_role,
      ip, request_id, action, entity_type, entity_id, region_code, result, details, hash_alg,
      prev_hash, hash
    FROM jsonb_to_recordset(entries) AS r(id bigint, at timestamptz, actor_kind text,
      actor_user_id bigint, actor_token_id bigint, actor_username text, actor_role text, ip text,
      request_id text, action text, entity_type text, entity_id text, region_code text, result text,
      details jsonb, hash_alg text, prev_hash text, hash text);
  GET DIAGNOSTICS written = ROW_COUNT;
  RETURN written;
END
$$;
