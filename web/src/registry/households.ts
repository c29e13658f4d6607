// Households (户) as the web app reads and writes them (mirroring HouseholdDetail, HouseholdCreate and
// HouseholdPatch in src/modules/registry/registry.schemas.ts).
import { api } from '../api.ts';

export interface HouseholdMember {
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
}

export interface HouseholdRelation {
  personId: number;
  relatedPersonId: number;
  kind: string;
  subtype: string | null;
}

export interface Household {
  id: number;
  countyCode: string;
  householdNo: string;
  hukouRegionCode: string;
  address: string | null;
  headPersonId: number | null;
  /** Declared annual income in fen (分). */
  annualIncomeFen: number | null;
  assets: Record<string, unknown>;
  bankAccountMasked: string | null;
  version: number;
  members: HouseholdMember[];
  relations: HouseholdRelation[];
}

export interface HouseholdCreate {
  householdNo: string;
  hukouRegionCode: string;
  address?: string | null;
  headPersonId?: number | null;
  annualIncomeFen?: number | null;
  assets?: Record<string, unknown>;
  bankAccount?: string | null;
}

export type HouseholdPatch = { version: number } & Partial<
  Pick<HouseholdCreate, 'address' | 'headPersonId' | 'annualIncomeFen' | 'assets' | 'bankAccount'>
> & {
    /** With a new head: the former head's new 与户主关系 (required by the server when there was a head). */
    formerHeadRelationToHead?: string | null;
  };

/** POST /households/{id}/reveal: the address and assets whole (persons.reveal; audited). */
export interface HouseholdRevealed {
  id: number;
  address: string | null;
  assets: Record<string, unknown>;
}

export const householdsApi = {
  get: (id: number, signal?: AbortSignal) => api.get<Household>(`/households/${id}`, { signal }),
  reveal: (id: number) => api.post<HouseholdRevealed>(`/households/${id}/reveal`),
  create: (input: HouseholdCreate) => api.post<Household>('/households', input),
  update: (id: number, patch: HouseholdPatch) => api.patch<Household>(`/households/${id}`, patch),
};

/** "12000.5" → 1200050 fen without floating point; null for an empty text, undefined when unreadable. */
export function yuanToFen(text: string): number | null | undefined {
  const s = text.trim().replace(/,/g, '');
  if (s === '') return null;
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

export function fenToYuan(fen: number): string {
  const yuan = Math.floor(fen / 100);
  const cents = fen % 100;
  return cents ? `${yuan}.${String(cents).padStart(2, '0').replace(/0$/, '')}` : String(yuan);
}

/** An asset's declared value as text (a clerk types text; an import may have stored a number). */
export function assetText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Whether the household's address or assets show a number masked (138****5678): the server masks
 * phones and ID numbers typed into them, and keeps the stored number when the masked text comes back.
 */
export function hasMaskedText(h: Pick<Household, 'address' | 'assets'>): boolean {
  return /\*{3,}/.test(`${h.address ?? ''}${JSON.stringify(h.assets)}`);
}
