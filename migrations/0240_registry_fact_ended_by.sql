-- A fact that ended an earlier one. When a new fact of a single-valued kind begins while an earlier
-- one of the same kind is open, the earlier one ends on the new one's start; the new fact is kept
-- on it here. Retracting the new fact (recorded by mistake) reopens the earlier one: until the
-- next fact of the kind that is not retracted, or open. An end a clerk or a file stated (no new
-- fact) has none, and a retraction never reopens it. Set only together with an end.
ALTER TABLE person_facts ADD COLUMN ended_by_fact_id bigint REFERENCES person_facts (id);
ALTER TABLE person_facts ADD CONSTRAINT person_facts_ended_by_check
  CHECK (ended_by_fact_id IS NULL OR valid_to IS NOT NULL);

-- Until now the link was only in the audit trail, for a fact recorded in a person's file (the
-- entry of the new fact lists the facts it ended, with the end it set). Taken from there where the
-- earlier fact still ends where that entry ended it, on the start of the new fact of the same
-- person and kind. Imports and merges left no such link: those ends stay as they are.
UPDATE person_facts f SET ended_by_fact_id = n.id
FROM audit_log a
  CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(a.details->'ended') = 'array' THEN a.details->'ended' ELSE '[]'::jsonb END
  ) AS e (value)
  JOIN person_facts n ON n.id =
    CASE WHEN jsonb_typeof(a.details->'factId') = 'number' THEN (a.details->>'factId')::bigint END
WHERE a.action = 'person.fact.add' AND a.result = 'ok'
  AND f.id = CASE WHEN jsonb_typeof(e.value->'factId') = 'number' THEN (e.value->>'factId')::bigint END
  AND f.valid_to::text = e.value->>'to'
  AND f.retracted_at IS NULL
  AND n.person_id = f.person_id AND n.kind = f.kind AND n.valid_from = f.valid_to;
