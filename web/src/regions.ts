// Administrative regions (行政区划, GB/T 2260 and the statistics division codes): the shapes the
// API returns (mirroring src/modules/regions/regions.schemas.ts), the calls, and their words.
import { api } from './api.ts';
import { defineMessages, type Lang } from './i18n.ts';

export type RegionLevel = 'province' | 'prefecture' | 'county' | 'township' | 'village';

export interface RegionSummary {
  /** 2, 4, 6, 9 or 12 digits by level. */
  code: string;
  name: string;
  level: RegionLevel;
  parentCode: string | null;
  /** Villages only: true for a villagers committee (村委会), false for a residents committee (居委会). */
  rural: boolean | null;
  validFrom: string;
  validTo: string | null;
  /** Absent in search results. */
  childCount?: number;
}

export interface RegionRef {
  code: string;
  name: string;
}

export interface RegionDetail extends RegionSummary {
  childCount: number;
  /** Ancestors from the province down to the parent. */
  path: RegionRef[];
}

interface RegionList {
  items: RegionSummary[];
}

const at = (code: string) => `/regions/${encodeURIComponent(code)}`;

export const regionsApi = {
  provinces: (signal?: AbortSignal) => api.get<RegionList>('/regions', { signal }).then((r) => r.items),
  get: (code: string, signal?: AbortSignal) => api.get<RegionDetail>(at(code), { signal }),
  children: (code: string, signal?: AbortSignal) =>
    api.get<RegionList>(`${at(code)}/children`, { signal }).then((r) => r.items),
  search: (q: string, options: { within?: string | null; limit?: number; signal?: AbortSignal } = {}) =>
    api
      .get<RegionList>('/regions/search', {
        query: { q, within: options.within, limit: options.limit },
        signal: options.signal,
      })
      .then((r) => r.items),
};

export function hasNoChildren(region: RegionSummary): boolean {
  return region.level === 'village' || region.childCount === 0;
}

export const regionWords = defineMessages(
  {
    province: '省级',
    prefecture: '地级',
    county: '县级',
    township: '乡级',
    village: '村级',
    rural: '村民委员会（村委会）',
    urban: '居民委员会（居委会）',
    ruralShort: '村',
    urbanShort: '居',
    unknownKind: '未标注',
  },
  {
    province: 'Province',
    prefecture: 'Prefecture',
    county: 'County',
    township: 'Township',
    village: 'Village',
    rural: "Villagers' committee (rural)",
    urban: "Residents' committee (urban)",
    ruralShort: 'Rural',
    urbanShort: 'Urban',
    unknownKind: 'Not recorded',
  },
);

export function levelLabel(level: RegionLevel, lang: Lang): string {
  return regionWords[lang][level];
}

/** 村委会 / 居委会 for a village; null for the levels above, which carry no such flag. */
export function committeeLabel(region: Pick<RegionSummary, 'level' | 'rural'>, lang: Lang): string | null {
  if (region.level !== 'village') return null;
  if (region.rural === null) return regionWords[lang].unknownKind;
  return regionWords[lang][region.rural ? 'rural' : 'urban'];
}
