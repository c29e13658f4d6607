-- The membership periods are derived data that only the evaluation writes, for persons it has read in
-- the same transaction, and persons are never deleted (a duplicate is merged, its row kept). The
-- foreign key to persons checked every inserted period (a probe and a row lock on the person: about a
-- quarter of a county's first evaluation on PostgreSQL, docs/PERFORMANCE.md "bench/groups"). The same
-- guarantee is kept from the other side: deleting a person who has periods is refused.
ALTER TABLE group_memberships DROP CONSTRAINT IF EXISTS group_memberships_person_id_fkey;

CREATE FUNCTION persons_keep_memberships() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM group_memberships WHERE person_id = OLD.id) THEN
    RAISE EXCEPTION 'person % has care group periods and cannot be deleted', OLD.id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN OLD;
END
$$;
CREATE TRIGGER persons_keep_memberships BEFORE DELETE ON persons
  FOR EACH ROW EXECUTE FUNCTION persons_keep_memberships();
