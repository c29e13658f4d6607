import type { ColumnType } from 'kysely';

export type RegionLevel = 1 | 2 | 3 | 4 | 5;

export interface RegionsTable {
  code: string;
  name: string;
  level: RegionLevel;
  parent_code: string | null;
  rural: boolean | null;
  valid_from: ColumnType<string, string | undefined, string>;
  valid_to: string | null;
}

export interface RegionsStagingTable {
  load_id: string;
  code: string;
  name: string;
  parent_code: string | null;
}

export interface RegionTables {
  regions: RegionsTable;
  regions_staging: RegionsStagingTable;
}
