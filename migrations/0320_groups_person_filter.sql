-- The person list's care-group filter (GET /persons?group=...). A list over a large scope walks
-- persons in id order and asks each "a member of the group?" (group_memberships_person); a rare group
-- or a small scope is answered from the group's members instead, read in person order from here.
-- Without it, the group is a non-leading column of every index and the whole index is read.
CREATE INDEX group_memberships_group_person ON group_memberships (group_code, person_id) INCLUDE (since, until);
