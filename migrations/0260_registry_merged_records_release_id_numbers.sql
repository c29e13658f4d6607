-- A merged record holds no ID number: the merge moves it to the person kept. A number written on a
-- merged record before such writes were refused (session 19) is released by the API and the template
-- import only when the same number is written again (releaseMergedIdNumber in registry.repository.ts),
-- and the child ledger import, which does not release, takes such a number for the person kept. They
-- are released here once, the same way: the last six characters kept in no_id_reason, the version
-- moved on. Not audited: the audit chain is hashed by the application (as for migration 0250).
UPDATE persons
SET id_number = NULL,
    no_id_reason = 'merged:' || right(id_number, 6),
    version = version + 1,
    updated_at = now()
WHERE merged_into IS NOT NULL
  AND id_number IS NOT NULL;
