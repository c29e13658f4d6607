import type { Generated } from 'kysely';
import type { Json, Timestamp } from '../../platform/platform.tables.ts';

export interface GroupReasonsJson {
  zh: string[];
  en: string[];
}

export interface GroupConfigTable {
  id: Generated<number>;
  region_code: string;
  valid_from: string;
  valid_to: string | null;
  config: Json<Record<string, unknown>>;
  version: number;
  changed_by: number | null;
  changed_at: Generated<Date>;
}

export interface GroupMembershipsTable {
  id: Generated<number>;
  person_id: number;
  group_code: string;
  sub_category: string | null;
  since: string;
  until: string | null;
  reasons: Json<GroupReasonsJson>;
  evaluated_at: Generated<Date>;
  region_code: string;
}

export type WorklistKind = 'group_entered' | 'group_left';

export interface WorklistItemsTable {
  id: Generated<number>;
  person_id: number;
  region_code: string;
  kind: WorklistKind;
  group_code: string;
  on_date: string;
  text_zh: string;
  text_en: string;
  created_at: Generated<Date>;
  acknowledged_at: Timestamp | null;
  acknowledged_by: number | null;
}

/** Per village, group and day: periods starting that day minus periods ending it (triggers keep it). */
export interface GroupCountDeltasTable {
  region_code: string;
  group_code: string;
  on_date: string;
  delta: number;
}

/** Per village and group: the open periods (the sum of all of its deltas). */
export interface GroupCountOpenTable {
  region_code: string;
  group_code: string;
  open: number;
}

/** Per person: moved by every registry change's re-evaluation (the batch fingerprint sums it). */
export interface GroupPersonStampsTable {
  person_id: number;
  stamp: number;
}

export interface GroupTables {
  group_config: GroupConfigTable;
  group_memberships: GroupMembershipsTable;
  worklist_items: WorklistItemsTable;
  group_count_deltas: GroupCountDeltasTable;
  group_count_open: GroupCountOpenTable;
  group_person_stamps: GroupPersonStampsTable;
}
