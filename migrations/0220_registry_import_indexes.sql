-- Every person an import writes updates each index of `persons`. persons_name_id (name, id) served
-- only the equality arm of the name search, which is an OR with a prefix LIKE and so never read in
-- id order: persons_name (name text_pattern_ops) serves that arm as well (the plans of the name and
-- ID-tail + name searches are the same bitmap scans without it). docs/DECISIONS.md.
DROP INDEX persons_name_id;
