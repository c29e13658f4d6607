-- A person's open worklist items follow the person's hukou village (groups.worklist-moves.ts): every
-- registry change of a person looks up that person's open items, which without this index read every
-- open item of the country (a ledger import announces thousands of persons in one transaction).
CREATE INDEX worklist_items_open_person ON worklist_items (person_id) WHERE acknowledged_at IS NULL;
