-- The child ledger import (EXCHANGE.md "Child ledger"). What the survey form says about an
-- entrusted carer is kept on the carer link: whether the entrusted-guardianship form (委托监护确认书)
-- was signed, the form's guardianship assessment (监护类型) and how the carer is related to the
-- child. The ledger's own yes/no answers are kept as declared facts ('ledger_declaration'), never as
-- group memberships. An import keeps the rows where those answers disagree with the rules (its review).
ALTER TABLE person_relations
  ADD COLUMN entrustment_form_signed boolean,
  ADD COLUMN guardianship_assessment text CHECK (guardianship_assessment IS NULL OR guardianship_assessment IN
    ('none', 'parent_unable', 'carer_insufficient', 'fair', 'good')),
  ADD COLUMN carer_relation text;

ALTER TABLE person_facts DROP CONSTRAINT person_facts_kind_check;
ALTER TABLE person_facts ADD CONSTRAINT person_facts_kind_check CHECK (kind IN ('migration', 'liberty_restriction',
  'lost_contact', 'guardianship_revoked', 'deported', 'death', 'declared_missing', 'declared_dead', 'disability',
  'serious_illness', 'schooling', 'self_care', 'living_arrangement', 'family_planning_special', 'assistance',
  'guardianship_failure', 'ledger_declaration'));

ALTER TABLE imports
  ADD COLUMN review jsonb,
  ADD COLUMN review_report_path text;
