-- A registry change re-evaluates the person and their relatives in its own transaction
-- (evaluatePerson), often without writing a period. A region evaluation that read the same persons
-- before that change and writes after it must still notice: each such re-evaluation moves the
-- persons' stamps here, and the fingerprint a batch checks before it writes (groups.repository.ts)
-- sums them with the versions of the persons' periods.
CREATE TABLE group_person_stamps (
  person_id bigint PRIMARY KEY,
  stamp bigint NOT NULL
);
