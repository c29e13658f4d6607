// The registry's persons as the web app reads them: the list (search, region, care-group filter) and
// the person file with its care groups.
import { api } from '../api.ts';
import { GROUP_CODES, type GroupCode } from '../groups/groups.ts';

/** The care groups' names, for the filter before any person has been listed (the server's GROUP_LABELS). */
export { GROUP_NAMES } from '../groups/labels.ts';

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
  /** The user who recorded the fact (null for an import by API token or the system). */
  recordedBy: number | null;
  recordedAt: string;
  retractedAt: string | null;
  /** The user who retracted it; the server sends the id only. */
  retractedBy: number | null;
  retractionReason: string | null;
}

export interface PersonFile extends Omit<PersonListItem, 'groups'> {
  /** Masked like the ID number; whole from reveal. */
  noIdReason: string | null;
  birthCertNo: string | null;
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
  /** POST /persons/{id}/reveal: the masked numbers whole (persons.reveal; audited). */
  reveal: (id: number) => api.post<PersonRevealed>(`/persons/${id}/reveal`),
};

export interface PersonRevealed {
  id: number;
  idNumber: string | null;
  phone: string | null;
  birthCertNo: string | null;
  noIdReason: string | null;
}
