// The groups API as the web app uses it: statistics, drill-down members and the worklist.
import { api, apiDownload, saveBlob } from '../api.ts';

export const GROUP_CODES = [
  'left_behind_child',
  'de_facto_unsupported_child',
  'orphan',
  'distressed_child',
  'left_behind_elderly',
  'left_behind_woman',
  'high_age_elderly',
  'disabled_elderly',
  'special_difficulty_elderly',
] as const;
export type GroupCode = (typeof GROUP_CODES)[number];

export interface StatCell {
  value: number | null;
  suppressed: boolean;
  display: string;
}

export interface StatsRow {
  regionCode: string;
  regionName: string;
  counts: Record<string, StatCell>;
}

export interface StatsTable {
  region: { code: string; name: string };
  asOf: string;
  groups: { code: GroupCode; zh: string; en: string }[];
  rows: StatsRow[];
  total: StatsRow;
  suppressed: boolean;
  threshold: number;
}

export interface MonthlySeries {
  region: { code: string; name: string };
  months: { month: string; monthEnd: string; counts: Record<string, StatCell> }[];
  suppressed: boolean;
}

export interface Member {
  personId: number;
  name: string;
  idNumberMasked: string | null;
  sex: number | null;
  birthDate: string | null;
  hukouRegionCode: string;
  since: string;
  subCategory: string | null;
  reasons: { zh: string[]; en: string[] };
}

export interface WorklistItem {
  id: number;
  personId: number;
  regionCode: string;
  kind: 'group_entered' | 'group_left';
  groupCode: GroupCode;
  onDate: string;
  text: { zh: string; en: string };
  createdAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: number | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const region = (code: string) => (code === '' ? undefined : code);

export const groupsApi = {
  stats: (code: string, asOf: string, signal?: AbortSignal) =>
    api.get<StatsTable>('/stats/groups', { query: { region: region(code), asOf }, signal }),
  monthly: (code: string, from: string, to: string, signal?: AbortSignal) =>
    api.get<MonthlySeries>('/stats/groups/monthly', { query: { region: region(code), from, to }, signal }),
  members: (code: string, group: GroupCode, asOf: string, cursor?: string | null) =>
    api.get<Page<Member>>('/stats/groups/members', {
      query: { region: region(code), group, asOf, cursor: cursor ?? undefined, limit: 50 },
    }),
  async exportXlsx(code: string, asOf: string): Promise<void> {
    const { blob, filename } = await apiDownload('/stats/groups.xlsx', { region: region(code), asOf });
    saveBlob(blob, filename ?? `groups-${code || 'national'}-${asOf}.xlsx`);
  },
  async exportMonthlyXlsx(code: string, from: string, to: string): Promise<void> {
    const { blob, filename } = await apiDownload('/stats/groups/monthly.xlsx', {
      region: region(code),
      from,
      to,
    });
    saveBlob(blob, filename ?? `groups-monthly-${code || 'national'}-${from}-${to}.xlsx`);
  },
  async exportMembersXlsx(code: string, group: GroupCode, asOf: string): Promise<void> {
    const { blob, filename } = await apiDownload('/stats/groups/members.xlsx', {
      region: region(code),
      group,
      asOf,
    });
    saveBlob(blob, filename ?? `group-${group}-${code || 'national'}-${asOf}.xlsx`);
  },
  /** The items in `code` ('' = the reader's whole scope). */
  worklist: (code: string, status: 'open' | 'all', cursor?: string | null, signal?: AbortSignal) =>
    api.get<Page<WorklistItem>>('/worklist', {
      query: { region: region(code), status, cursor: cursor ?? undefined, limit: 50 },
      signal,
    }),
  acknowledge: (id: number) => api.post<WorklistItem>(`/worklist/${id}/acknowledge`),
};

/** ECharts, loaded on first use only (with just the charts and parts these pages draw). */
export function loadECharts() {
  return import('./echarts-setup.ts');
}
