-- A link recorded against the wrong person (two villagers of the same name) is retracted: it moves,
-- in one transaction, out of person_relations into this table, with who retracted it, when and why.
-- Every read of links (the file, as-of answers, the groups, the export, the one-father-one-mother
-- and one-spouse checks) reads person_relations only, so a retracted link is in force on no day,
-- and the history stays readable here (the person file's retractedRelations). The id is the link's
-- own: audit entries name it (person.relation.add/end/retract). Nothing else stores a link's id.
CREATE TABLE person_relations_retracted (
  id bigint PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES persons (id),
  related_person_id bigint NOT NULL REFERENCES persons (id),
  kind text NOT NULL,
  subtype text,
  valid_from date,
  valid_to date,
  entrustment_form_date date,
  carer_fitness_checked_on date,
  carer_fit boolean,
  source text NOT NULL,
  recorded_by bigint,
  recorded_at timestamptz NOT NULL,
  entrustment_form_signed boolean,
  guardianship_assessment text,
  carer_relation text,
  retracted_at timestamptz NOT NULL DEFAULT now(),
  retracted_by bigint,
  retraction_reason text NOT NULL
);
CREATE INDEX person_relations_retracted_person ON person_relations_retracted (person_id);
CREATE INDEX person_relations_retracted_related ON person_relations_retracted (related_person_id);
