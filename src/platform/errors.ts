// Typed, coded errors. Services throw DomainError; the HTTP layer maps the code to a status in
// one place (http.ts) and picks the message in the caller's language. Codes are stable API.

export type Lang = 'zh' | 'en';
export interface Message {
  zh: string;
  en: string;
}

export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'MALFORMED_JSON'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RATE_LIMITED'
  | 'ACCOUNT_LOCKED'
  | 'PASSWORD_CHANGE_REQUIRED'
  | 'TWO_FACTOR_REQUIRED'
  | 'TWO_FACTOR_ENROLLMENT_REQUIRED'
  | 'CSRF_FAILED'
  | 'FILE_REJECTED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  UNSUPPORTED_MEDIA_TYPE: 415,
  FILE_REJECTED: 422,
  RATE_LIMITED: 429,
  ACCOUNT_LOCKED: 423,
  PASSWORD_CHANGE_REQUIRED: 403,
  TWO_FACTOR_REQUIRED: 401,
  TWO_FACTOR_ENROLLMENT_REQUIRED: 403,
  CSRF_FAILED: 403,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

export const DEFAULT_MESSAGES: Record<ErrorCode, Message> = {
  VALIDATION_FAILED: { zh: '请求数据不符合要求', en: 'The request is not valid' },
  MALFORMED_JSON: { zh: '请求体不是有效的 JSON', en: 'The request body is not valid JSON' },
  UNAUTHENTICATED: { zh: '请先登录', en: 'Sign in first' },
  FORBIDDEN: { zh: '无权执行此操作', en: 'You may not do this' },
  NOT_FOUND: { zh: '未找到', en: 'Not found' },
  METHOD_NOT_ALLOWED: {
    zh: '此地址不接受该请求方法（可用的方法见 Allow 响应头）',
    en: 'This address does not take this method (the Allow header lists the ones it takes)',
  },
  CONFLICT: {
    zh: '记录已被他人修改，请刷新后重试',
    en: 'The record was changed by someone else; reload and retry',
  },
  PAYLOAD_TOO_LARGE: { zh: '上传内容过大', en: 'The upload is too large' },
  HEADERS_TOO_LARGE: { zh: '请求的网址或请求头过长', en: 'The address or the request headers are too long' },
  REQUEST_TIMEOUT: { zh: '请求超时，请重试', en: 'The request took too long; try again' },
  UNSUPPORTED_MEDIA_TYPE: { zh: '不支持的内容类型', en: 'Unsupported content type' },
  FILE_REJECTED: { zh: '文件无法导入', en: 'The file cannot be imported' },
  RATE_LIMITED: { zh: '请求过于频繁，请稍后再试', en: 'Too many requests; try again later' },
  ACCOUNT_LOCKED: { zh: '登录失败次数过多，请稍后再试', en: 'Too many failed sign-ins; try again later' },
  PASSWORD_CHANGE_REQUIRED: { zh: '请先修改密码', en: 'Change your password first' },
  TWO_FACTOR_REQUIRED: { zh: '需要双因素验证码', en: 'A two-factor code is required' },
  TWO_FACTOR_ENROLLMENT_REQUIRED: {
    zh: '管理员须先绑定双因素验证器',
    en: 'Administrators must set up two-factor authentication first',
  },
  CSRF_FAILED: { zh: '请求来源校验失败，请刷新页面', en: 'Request origin check failed; reload the page' },
  SERVICE_UNAVAILABLE: { zh: '服务暂不可用', en: 'Service unavailable' },
  INTERNAL: { zh: '服务器内部错误', en: 'Internal server error' },
};

export interface ErrorDetail {
  path: string;
  message: Message;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly userMessage: Message;
  readonly details: ErrorDetail[];
  constructor(code: ErrorCode, message?: Message, details: ErrorDetail[] = []) {
    super((message ?? DEFAULT_MESSAGES[code]).en);
    this.name = 'DomainError';
    this.code = code;
    this.userMessage = message ?? DEFAULT_MESSAGES[code];
    this.details = details;
  }
}

export const notFound = (what: Message = DEFAULT_MESSAGES.NOT_FOUND) => new DomainError('NOT_FOUND', what);
export const forbidden = (why: Message = DEFAULT_MESSAGES.FORBIDDEN) => new DomainError('FORBIDDEN', why);
export const invalid = (path: string, message: Message) =>
  new DomainError('VALIDATION_FAILED', DEFAULT_MESSAGES.VALIDATION_FAILED, [{ path, message }]);
export const conflict = (message: Message = DEFAULT_MESSAGES.CONFLICT) =>
  new DomainError('CONFLICT', message);

export function pick(message: Message, lang: Lang): string {
  return message[lang];
}
