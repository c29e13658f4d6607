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

/**
 * The share of the current pass done, 0-100, as the progress bar shows it beside "第 2 遍 · 4 / 8
 * 行"; null while it is not known (nothing reported yet, or the first pass of a registry template,
 * which reads rows without knowing how many there are). A finished import is 100 whatever its
 * counters say.
 */
export function importPercent(view: ImportView): number | null {
  if (FINISHED.includes(view.status)) return 100;
  const reading = readProgress(view);
  if (!reading || !reading.total) return null;
  return Math.min(99, Math.floor((reading.done / reading.total) * 100));
}

/** The step an import is at, in words the page translates (the server sends its own English word). */
export type ImportStep = 'validating' | 'writing' | 'done';

export interface ImportProgressReading {
  step: ImportStep | null;
  /** Which pass over the file this is, of how many; null for an import of one pass. */
  pass: number | null;
  passes: number | null;
  /** Rows done in this pass, of how many (null while not known). */
  done: number;
  total: number | null;
  /** Whether done and total count rows of the file (false: the server's own steps, unit unknown). */
  rows: boolean;
}

/**
 * The server's progress as a person reads it. A registry template is read in two passes over every
 * row - validation (`validating`: rows read, no total yet), then writing (`writing persons`,
 * `linking relations and facts`) - reported on one counter whose total is twice the rows
 * (registry.import.ts): the writing pass's own count is the counter less the rows. A child ledger
 * reports its writing pass only, in rows (`writing`, registry.import-ledger.ts).
 */
export function readProgress(view: ImportView): ImportProgressReading | null {
  const p = view.progress;
  if (!p) return null;
  const message = p.message ?? '';
  const step: ImportStep | null =
    message === 'validating'
      ? 'validating'
      : message === 'done'
        ? 'done'
        : message.startsWith('writing') || message.startsWith('linking')
          ? 'writing'
          : null;
  if (step === null) return { step, pass: null, passes: null, done: p.done, total: p.total, rows: false };
  if (view.kind === 'ledger')
    return { step, pass: null, passes: null, done: p.done, total: p.total, rows: true };
  if (step === 'validating') return { step, pass: 1, passes: 2, done: p.done, total: null, rows: true };
  const fileRows = p.total === null ? null : Math.round(p.total / 2);
  if (step === 'done')
    return { step, pass: null, passes: null, done: fileRows ?? p.done, total: fileRows, rows: true };
  if (fileRows === null) return { step, pass: 2, passes: 2, done: p.done, total: null, rows: false };
  const done = Math.max(0, Math.min(fileRows, p.done - fileRows));
  return { step, pass: 2, passes: 2, done, total: fileRows, rows: true };
}
