-- The child ledger named the household it made for a child after the child's ID number
-- (台账-<ID number>), which then showed unmasked wherever household numbers show: lists, the
-- household file, masked exports. Such households are numbered by their own id (台账-H<id>), as the
-- ledger import now numbers them; a later ledger finds the child by its ID number, not by this.
UPDATE households
SET household_no = '台账-H' || households.id::text,
    version = households.version + 1,
    updated_at = now()
WHERE households.household_no ~ '^台账-([0-9]{17}[0-9Xx]|[0-9]{15})$'
  AND NOT EXISTS (
    SELECT 1 FROM households AS other
    WHERE other.county_code = households.county_code
      AND other.household_no = '台账-H' || households.id::text
  );
