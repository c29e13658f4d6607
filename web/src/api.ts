// The one way the web app talks to the server: JSON over fetch, the session cookie, the interface
// language, and the CSRF token echoed from its cookie. Every failure becomes an ApiError carrying
// the server's code, so pages branch on `error.code`, never on message text.
import { acceptLanguage, common, currentLang, defineMessages, translate } from './i18n.ts';

export const API_BASE = '/api/v1';
const CSRF_COOKIE = 'shouhu_csrf';
const CSRF_HEADER = 'x-shouhu-csrf';

export interface ApiErrorDetail {
  /** The field the message is about, e.g. `idNumber` or `rows.12.birthDate`. */
  path: string;
  message: string;
}

/** Client-side codes next to the server's: NETWORK (no answer) and HTTP_ERROR (an answer that is not ours). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ApiErrorDetail[];

  constructor(status: number, code: string, message: string, details: ApiErrorDetail[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

// A session that ends on the server (idle timeout, signed out elsewhere, role changed) shows up as a
// 401 on whatever call comes next; the session state listens here and returns to the sign-in page.
const expiryListeners = new Set<(replaced: boolean) => void>();

/**
 * Called on every 401 UNAUTHENTICATED except the sign-in attempt itself; `replaced` when the request
 * went out under an earlier session and another has been signed in since (in this tab or another):
 * then the session in force is not the one that ended.
 */
export function onSessionExpired(listener: (replaced: boolean) => void): () => void {
  expiryListeners.add(listener);
  return () => expiryListeners.delete(listener);
}

const SIGN_IN_PATH = '/auth/login';

export function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

export type QueryValue = string | number | boolean | null | undefined;
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  signal?: AbortSignal;
}

function readCookie(name: string): string | null {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/**
 * Whether this browser holds a session. The session cookie cannot be read from script, but the CSRF
 * cookie is set and cleared with it.
 */
export function hasSessionCookie(): boolean {
  return readCookie(CSRF_COOKIE) !== null;
}

export function apiUrl(path: string, query?: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`;
}

function isErrorEnvelope(
  value: unknown,
): value is { error: { code: string; message: string; details?: ApiErrorDetail[] } } {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = (value as { error: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}

export async function apiRequest<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'accept-language': acceptLanguage(currentLang()),
  };
  const csrf = readCookie(CSRF_COOKIE);
  if (csrf) headers[CSRF_HEADER] = csrf;
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) body = options.body;
  else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }

  let response: Response;
  try {
    response = await fetch(apiUrl(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw new ApiError(0, 'NETWORK', translate(common, 'networkError'));
  }

  if (response.status === 204) return undefined as T;
  const payload: unknown = await response.json().catch(() => null);
  if (response.ok) return payload as T;
  throw failure(response.status, payload, path, csrf);
}

/**
 * The ApiError for a failed answer; a 401 UNAUTHENTICATED also tells the session listeners, saying
 * whether the request went out under an earlier session: `sentWith` is the CSRF cookie when it was
 * sent, and a sign-in since then sets a new one. A late answer to a request of the ended session must
 * not end the session the user has just started.
 */
function failure(status: number, payload: unknown, path: string, sentWith: string | null): ApiError {
  if (!isErrorEnvelope(payload))
    return new ApiError(status, 'HTTP_ERROR', translate(common, 'httpError', { status }));
  const now = readCookie(CSRF_COOKIE);
  const replaced = now !== null && now !== sentWith;
  if (status === 401 && payload.error.code === 'UNAUTHENTICATED' && path !== SIGN_IN_PATH)
    for (const listener of expiryListeners) listener(replaced);
  const details = payload.error.details ?? [];
  return new ApiError(status, payload.error.code, refusalText(payload.error.message, details), details);
}

// The names of the fields a refusal most often speaks of, for a message that names them in words.
// A field not listed here is named by its path as the server gives it.
const fieldNames = defineMessages(
  {
    name: '姓名',
    idNumber: '公民身份号码',
    noIdReason: '无身份号码原因',
    sex: '性别',
    birthDate: '出生日期',
    ethnicity: '民族',
    phone: '联系电话',
    hukouRegionCode: '户籍地',
    hukouType: '户口性质',
    residenceRegionCode: '现居住地',
    relationToHead: '与户主关系',
    householdNo: '户编号',
    address: '地址',
    headPersonId: '户主',
    householdId: '户',
    relatedPersonId: '关联人员',
    q: '搜索内容',
    region: '区划',
    regionCode: '区划',
    group: '关爱群体',
    asOf: '统计日期',
    cursor: '分页位置',
    limit: '每页条数',
    file: '文件',
    kind: '类别',
    from: '开始日期',
    to: '结束日期',
    password: '密码',
    reason: '原因',
  },
  {
    name: 'Name',
    idNumber: 'ID number',
    noIdReason: 'Reason there is no ID number',
    sex: 'Sex',
    birthDate: 'Birth date',
    ethnicity: 'Ethnicity',
    phone: 'Phone',
    hukouRegionCode: 'Hukou village',
    hukouType: 'Hukou type',
    residenceRegionCode: 'Lives in',
    relationToHead: 'Relation to the head',
    householdNo: 'Household number',
    address: 'Address',
    headPersonId: 'Head of household',
    householdId: 'Household',
    relatedPersonId: 'Related person',
    q: 'Search text',
    region: 'Region',
    regionCode: 'Region',
    group: 'Care group',
    asOf: 'As-of date',
    cursor: 'Page position',
    limit: 'Page size',
    file: 'File',
    kind: 'Kind',
    from: 'From',
    to: 'To',
    password: 'Password',
    reason: 'Reason',
  },
);

const refusalWords = defineMessages(
  { row: '第 {n} 行', joinList: '；', afterSummary: '：', fieldReason: '{field}：{reason}' },
  { row: 'row {n}', joinList: '; ', afterSummary: ': ', fieldReason: '{field}: {reason}' },
);

/** A detail's field in words: `birthDate` → 出生日期, `rows.12.birthDate` → 第 13 行 出生日期. */
export function fieldName(path: string): string {
  const parts = path.split(/[./]/).filter(Boolean);
  const last = parts.at(-1);
  if (!last) return path;
  const names = fieldNames[currentLang()] as Record<string, string>;
  const known = Object.hasOwn(names, last) ? names[last] : undefined;
  if (!known) return path;
  const index = parts.slice(0, -1).find((part) => /^\d+$/.test(part));
  return index === undefined ? known : `${translate(refusalWords, 'row', { n: Number(index) + 1 })} ${known}`;
}

/** One detail as a user reads it: the field, then the server's reason (which speaks their language). */
export function describeDetail(detail: ApiErrorDetail): string {
  if (!detail.path) return detail.message;
  return translate(refusalWords, 'fieldReason', { field: fieldName(detail.path), reason: detail.message });
}

/**
 * The message of a refusal with details: the server's summary ("请求数据不符合要求") says only that
 * something is wrong; the details say what, so a page that shows the message shows every reason.
 */
function refusalText(summary: string, details: readonly ApiErrorDetail[]): string {
  const reasons = [...new Set(details.map(describeDetail))];
  if (!reasons.length) return summary;
  return `${summary}${translate(refusalWords, 'afterSummary')}${reasons.join(translate(refusalWords, 'joinList'))}`;
}

/** A file the server sends for download (a CSV export), with the name it suggests. */
export async function apiDownload(
  path: string,
  query?: Record<string, QueryValue>,
): Promise<{ blob: Blob; filename: string | null }> {
  const sentWith = readCookie(CSRF_COOKIE);
  let response: Response;
  try {
    response = await fetch(apiUrl(path, query), {
      headers: { 'accept-language': acceptLanguage(currentLang()) },
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'NETWORK', translate(common, 'networkError'));
  }
  if (!response.ok) throw failure(response.status, await response.json().catch(() => null), path, sentWith);
  const disposition = response.headers.get('content-disposition') ?? '';
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? null;
  return { blob: await response.blob(), filename };
}

/** Hands a blob to the browser as a download. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = filename;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const api = {
  get: <T>(path: string, options?: Omit<RequestOptions, 'body'>) => apiRequest<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    apiRequest<T>('POST', path, { ...options, body }),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    apiRequest<T>('PUT', path, { ...options, body }),
  patch: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    apiRequest<T>('PATCH', path, { ...options, body }),
  delete: <T>(path: string, options?: RequestOptions) => apiRequest<T>('DELETE', path, options),
};
