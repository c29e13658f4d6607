import type { ColumnType, Generated, Selectable } from 'kysely';
import type { Json, Timestamp } from '../../platform/platform.tables.ts';

export type RelationKind = 'parent' | 'spouse' | 'guardian' | 'carer';
export type ParentSubtype = 'biological' | 'adoptive' | 'step';
export type ImportKind = 'registry' | 'ledger';
export type ImportStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'rejected';
/** The child ledger's 监护类型 (guardianship assessment of the survey form). */
export type GuardianshipAssessment = 'none' | 'parent_unable' | 'carer_insufficient' | 'fair' | 'good';

export interface ImportCounts {
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  errors: number;
}

export interface HouseholdsTable {
  id: Generated<number>;
  county_code: string;
  household_no: string;
  head_person_id: number | null;
  address: string | null;
  hukou_region_code: string;
  annual_income_fen: number | null;
  assets: ColumnType<Record<string, unknown>, string | undefined, string>;
  bank_account_masked: string | null;
  version: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface PersonsTable {
  id: Generated<number>;
  id_number: string | null;
  id_tail: ColumnType<string | null, never, never>;
  no_id_reason: string | null;
  birth_cert_no: string | null;
  name: string;
  name_pinyin: string;
  name_initials: string;
  sex: 1 | 2 | null;
  birth_date: string | null;
  ethnicity: string | null;
  phone: string | null;
  hukou_region_code: string;
  hukou_type: string | null;
  residence_region_code: string | null;
  household_id: number | null;
  relation_to_head: string | null;
  version: Generated<number>;
  merged_into: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface PersonRelationsTable {
  id: Generated<number>;
  person_id: number;
  related_person_id: number;
  kind: RelationKind;
  subtype: ParentSubtype | null;
  valid_from: string | null;
  valid_to: string | null;
  entrustment_form_date: string | null;
  carer_fitness_checked_on: string | null;
  carer_fit: boolean | null;
  /** carers only: whether the entrusted-guardianship form was signed (the ledger may say so without a date). */
  entrustment_form_signed: boolean | null;
  /** carers only: the child ledger's assessment of the guardianship (监护类型). */
  guardianship_assessment: GuardianshipAssessment | null;
  /** carers only: how the carer is related to the child, as the ledger writes it (祖父, 姑姑 ...). */
  carer_relation: string | null;
  source: ColumnType<string, string | undefined, string>;
  recorded_by: number | null;
  recorded_at: Generated<Date>;
}

/**
 * A retracted link (recorded against the wrong person): moved out of person_relations with who
 * retracted it, when and why (migration 0270), so no read of links sees it and the history stays.
 */
export type PersonRelationsRetractedTable = Selectable<PersonRelationsTable> & {
  retracted_at: Generated<Date>;
  retracted_by: number | null;
  retraction_reason: string;
};

export interface PersonFactsTable {
  id: Generated<number>;
  person_id: number;
  kind: string;
  valid_from: string;
  valid_to: string | null;
  data: Json<Record<string, unknown>>;
  source: ColumnType<string, string | undefined, string>;
  recorded_by: number | null;
  recorded_at: Generated<Date>;
  retracted_at: Timestamp | null;
  retracted_by: number | null;
  retraction_reason: string | null;
  /**
   * The later fact of the same kind whose start set valid_to (it began while this one was open).
   * Retracting that fact reopens this one. NULL when open, or ended explicitly (a clerk, a file).
   */
  ended_by_fact_id: number | null;
}

export interface ImportsTable {
  id: Generated<number>;
  idempotency_key: string;
  file_name: string;
  stored_path: string;
  sha256: string;
  kind: ImportKind;
  dry_run: boolean;
  status: ColumnType<ImportStatus, ImportStatus | undefined, ImportStatus>;
  counts: ColumnType<ImportCounts, string | undefined, string>;
  message: string | null;
  error_report_path: string | null;
  job_id: number | null;
  /** Child ledger imports: the rows whose own answers disagree with the rules (LedgerReview). */
  review: Json<Record<string, unknown>> | null;
  /** Child ledger imports: where the review was written as `${path}.xlsx` and `.csv`. */
  review_report_path: string | null;
  created_by: number | null;
  region_code: string;
  created_at: Generated<Date>;
  finished_at: Date | null;
}

export interface RegistryTables {
  households: HouseholdsTable;
  persons: PersonsTable;
  person_relations: PersonRelationsTable;
  person_relations_retracted: PersonRelationsRetractedTable;
  person_facts: PersonFactsTable;
  imports: ImportsTable;
}
