-- Every change of a region's group configuration is a new version, and every version stays on record
-- (DOMAIN.md: "versioned, effective-dated configuration"). A version replaced on the day it took
-- effect is kept as a row of no days (valid_to = valid_from): never in force, still readable, as a
-- voided membership period is (until = since).
ALTER TABLE group_config DROP CONSTRAINT IF EXISTS group_config_check;
ALTER TABLE group_config ADD CONSTRAINT group_config_period CHECK (valid_to IS NULL OR valid_to >= valid_from);
