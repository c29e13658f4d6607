// Imports (导入) of a registry template or a child ledger: the upload, and the import as it runs
// (mirroring ImportView in src/modules/registry/registry.schemas.ts).
import { api } from '../api.ts';

export type ImportKind = 'registry' | 'ledger';
export type ImportStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'rejected';

export interface ImportCounts {
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  errors: number;
}

export interface ReportLinks {
  xlsx: string;
  csv: string;
}

export interface LedgerDisagreement {
  rowNumber: number;
  personId: number;
  name: string;
  question: 'left_behind_child' | 'both_parents_migrant' | 'one_migrant_other_unable';
  declared: string;
  derived: string;
  reasons: string[];
  text: string;
  groups: string[];
}

export interface LedgerReview {
  asOf: string;
  rowsChecked: number;
  count: number;
  disagreements: LedgerDisagreement[];
  report: ReportLinks | null;
}

export interface ImportView {
  id: number;
  fileName: string;
  sha256: string;
  kind: string;
  dryRun: boolean;
  status: ImportStatus;
  message: string | null;
  counts: ImportCounts;
  progress: { done: number; total: number | null; message: string | null } | null;
  errorReport: ReportLinks | null;
  review: LedgerReview | null;
  jobId: number | null;
  regionCode: string;
  createdAt: string;
  finishedAt: string | null;
}

/** One past import in the list (ImportListItem): no row of the file, only what and by whom. */
export interface ImportListItem {
  id: number;
  fileName: string;
  kind: string;
  dryRun: boolean;
  status: ImportStatus;
  counts: ImportCounts;
  regionCode: string;
  createdBy: { id: number; username: string; displayName: string } | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface ImportList {
  items: ImportListItem[];
  nextCursor: string | null;
}

export const FINISHED: readonly ImportStatus[] = ['succeeded', 'failed', 'rejected'];

export const importsApi = {
  /** Uploads the file as multipart field "file"; the server answers 202 with the queued import. */
  submit: (file: File, options: { dryRun: boolean; kind: ImportKind }) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return api.post<ImportView>('/imports', form, {
      query: { dryRun: options.dryRun, kind: options.kind },
    });
  },
  get: (id: number, signal?: AbortSignal) => api.get<ImportView>(`/imports/${id}`, { signal }),
  /** The past imports in the caller's scope, newest first. */
  list: (cursor: string | null, signal?: AbortSignal) =>
    api.get<ImportList>('/imports', { query: { limit: 20, cursor: cursor ?? undefined }, signal }),
};

/** The share done, 0-100; a finished import is 100 whatever its counters say. */
export function importPercent(view: ImportView): number {
  if (FINISHED.includes(view.status)) return 100;
  const p = view.progress;
  if (!p || !p.total) return 0;
  return Math.min(99, Math.floor((p.done / p.total) * 100));
}
