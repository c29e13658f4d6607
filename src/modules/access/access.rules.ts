// Pure rules of access: the password policy, which region a role may be scoped to, the generated
// secrets. No database and no HTTP here.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { Message } from '../../platform/errors.ts';
import { ADMIN_ROLES, ROLE_REGION_LENGTH, ROLES, type Role } from './access.policy.ts';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_HISTORY = 5;

export function isRole(value: string | null | undefined): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isAdminRole(role: Role | null): boolean {
  return role !== null && ADMIN_ROLES.includes(role);
}

/**
 * The password policy (GB/T 22239-2019 level 3 asks for complexity): at least 10 characters, at
 * least three of the four classes upper case, lower case, digit and symbol, and not containing the
 * username. Returns what is wrong, empty when the password is acceptable. Reuse of the last five
 * passwords is checked against their hashes by the service.
 */
export function passwordProblems(password: string, username: string): Message[] {
  const problems: Message[] = [];
  if ([...password].length < PASSWORD_MIN_LENGTH)
    problems.push({
      zh: `密码至少 ${PASSWORD_MIN_LENGTH} 个字符`,
      en: `must have at least ${PASSWORD_MIN_LENGTH} characters`,
    });
  // Classes by Unicode category: letters with a case count as upper or lower case in any script
  // (É, ä), digits in any form (１), and everything else, Chinese characters included, as the
  // fourth class with the symbols (see DECISIONS.md).
  const classes = [/\p{Lu}/u, /\p{Ll}/u, /\p{Nd}/u, /[^\p{Lu}\p{Ll}\p{Nd}]/u].filter((re) =>
    re.test(password),
  ).length;
  if (classes < 3)
    problems.push({
      zh: '密码须包含大写字母、小写字母、数字、符号中的至少三类',
      en: 'must contain at least three of: upper-case letters, lower-case letters, digits, symbols',
    });
  // Compared after NFKC, so full-width letters (ｃｏｕｎｔｙ) hide nothing.
  const name = normalizeUsername(username);
  if (name.length >= 3 && normalizeUsername(password).includes(name))
    problems.push({ zh: '密码不能包含用户名', en: 'must not contain the username' });
  return problems;
}

/** True when the region code has the length the role's scope requires (any length when the role has none). */
export function regionFitsRole(role: Role, regionCode: string | null): boolean {
  const length = ROLE_REGION_LENGTH[role];
  if (length === null) return true;
  return regionCode !== null && regionCode.length === length;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A 256-bit random secret, URL-safe. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export const TOKEN_PREFIX = 'shu_';

export function newApiToken(): string {
  return TOKEN_PREFIX + randomSecret(32);
}

// No 0/O, 1/l/I: codes and temporary passwords are read aloud and typed from paper.
const READABLE = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
const SYMBOLS = '#%+=@!';

function pick(alphabet: string, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** A temporary password that satisfies the policy (about 80 bits), e.g. "Kq7p-Xm2a-9Rtz-#v". */
export function temporaryPassword(): string {
  for (;;) {
    const candidate = `${pick(READABLE, 4)}-${pick(READABLE, 4)}-${pick(READABLE, 4)}-${pick(SYMBOLS, 1)}${pick('23456789', 1)}`;
    if (passwordProblems(candidate, '').length === 0) return candidate;
  }
}

const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Ten single-use recovery codes of 16 characters (about 79 bits each), as xxxx-xxxx-xxxx-xxxx. */
export function recoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => [0, 1, 2, 3].map(() => pick(RECOVERY_ALPHABET, 4)).join('-'));
}

/** Recovery codes are compared without dashes, spaces or case. */
export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * Usernames are lower case, 3-64 characters of letters, digits, dot, dash and underscore. NFKC
 * first: a name typed in full-width (ｃｏｕｎｔｙ．ａ, a Chinese input method) is the same name.
 */
export function normalizeUsername(username: string): string {
  return username.normalize('NFKC').trim().toLowerCase();
}
export const USERNAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$';
