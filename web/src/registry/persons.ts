// The registry's persons as the web app reads them: the list (search, region, care-group filter) and
// the person file with its care groups.
import { api } from '../api.ts';
import type { Localized } from '../i18n.ts';
import { GROUP_CODES, type GroupCode } from '../groups/groups.ts';

/** The care groups' names, for the filter before any person has been listed (the server's GROUP_LABELS). */
export const GROUP_NAMES: Readonly<Record<GroupCode, Localized>> = {
  left_behind_child: { zh: '农村留守儿童', en: 'rural left-behind child' },
  de_facto_unsupported_child: { zh: '事实无人抚养儿童', en: 'de facto unsupported child' },
  orphan: { zh: '孤儿', en: 'orphan' },
  distressed_child: { zh: '困境儿童', en: 'child in distress' },
  left_behind_elderly: { zh: '农村留守老年人', en: 'rural left-behind elderly' },
  left_behind_woman: { zh: '农村留守妇女', en: 'rural left-behind woman' },
  high_age_elderly: { zh: '高龄老年人', en: 'high-age elderly' },
  disabled_elderly: { zh: '失能老年人', en: 'disabled elderly' },
  special_difficulty_elderly: { zh: '特殊困难老年人', en: 'elderly with special difficulties' },
};

export { GROUP_CODES, type GroupCode };

/** Tag colours: children warm, women purple, elderly blue. */
export function groupColor(code: string): string {
  if (code.endsWith('_child') || code === 'orphan') return 'orange';
  if (code === 'left_behind_woman') return 'purple';
  return 'blue';
}

export interface GroupTag {
  code: string;
  name: string;
  subCategory: string | null;
}

export interface PersonListItem {
  id: number;
  name: string;
  idNumber: string | null;
  sex: 1 | 2 | null;
  birthDate: string | null;
  phone: string | null;
  hukouRegionCode: string;
  householdId: number | null;
  householdNo: string | null;
  relationToHead: string | null;
  groups: GroupTag[];
}

export interface PersonGroup extends GroupTag {
  since: string;
  until: string | null;
  current: boolean;
  reasons: string[];
}

export interface Relation {
  id: number;
  kind: string;
  role: string;
  personId: number;
  name: string;
  subtype: string | null;
  validFrom: string | null;
  validTo: string | null;
}

export interface Fact {
  id: number;
  kind: string;
  from: string;
  to: string | null;
  data: Record<string, unknown>;
  retractedAt: string | null;
}

export interface PersonFile extends Omit<PersonListItem, 'groups'> {
  namePinyin: string;
  ethnicity: string | null;
  residenceRegionCode: string | null;
  mergedInto: number | null;
  version: number;
  relations: Relation[];
  facts: Fact[];
  groups: PersonGroup[];
}

export interface PersonQuery {
  q?: string;
  region?: string;
  groups?: readonly string[];
  cursor?: string | null;
}

export const personsApi = {
  list: (query: PersonQuery, signal?: AbortSignal) =>
    api.get<{ items: PersonListItem[]; nextCursor: string | null }>('/persons', {
      query: {
        q: query.q?.trim() || undefined,
        region: query.region || undefined,
        // Several groups travel comma-separated in one parameter.
        group: query.groups?.length ? query.groups.join(',') : undefined,
        cursor: query.cursor ?? undefined,
        limit: 50,
      },
      signal,
    }),
  get: (id: number, signal?: AbortSignal) => api.get<PersonFile>(`/persons/${id}`, { signal }),
};
