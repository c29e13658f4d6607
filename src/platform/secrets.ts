// Secrets kept at rest in the database (TOTP seeds) are sealed with the Chinese national
// algorithms (GM/T 0002 SM4, GM/T 0004 SM3, as MLPS 2.0 assessments expect): SM4-CBC for
// confidentiality and HMAC-SM3 over the whole sealed value for integrity (encrypt-then-MAC; the
// OpenSSL build under Node has no SM4-GCM). One 32-byte master key from configuration; the
// encryption key, the MAC key and a short key id are derived from it, so a value sealed under one
// key is recognised (and refused by name) under another.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';

const PREFIX = 'sm4$1$';
const IV_BYTES = 16;
const TAG_BYTES = 32;
export const SECRET_KEY_FILE = 'secret.key';

export class SecretKeyError extends Error {}

export interface SecretKey {
  /** 8 hex digits naming the key (not secret): written into every sealed value. */
  id: string;
  encryption: Buffer;
  mac: Buffer;
}

function derive(master: Buffer, label: string): Buffer {
  return createHmac('sm3', master).update(`shouhu ${label}`).digest();
}

export function secretKeyFromHex(hex: string): SecretKey {
  const master = Buffer.from(hex, 'hex');
  if (master.length !== 32) throw new SecretKeyError('the secret key must be 32 bytes (64 hex digits)');
  return {
    id: derive(master, 'key id').subarray(0, 4).toString('hex'),
    encryption: derive(master, 'sm4-cbc').subarray(0, 16),
    mac: derive(master, 'hmac-sm3'),
  };
}

/** The key file of the embedded mode: created once (0600), read on every start. */
function embeddedKeyHex(dataDir: string): string {
  const file = path.join(dataDir, SECRET_KEY_FILE);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, randomBytes(32).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const mode = fs.statSync(file).mode & 0o077;
  if (mode !== 0) fs.chmodSync(file, 0o600);
  const hex = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/i.test(hex))
    throw new SecretKeyError(`${file} does not hold a 64-hex-digit key; restore it from the backup`);
  return hex;
}

const resolved = new WeakMap<Config, SecretKey>();

/**
 * The configured key: SHOUHU_SECRET_KEY; without it, in the embedded mode, the key file in the
 * data folder (made on first need); with DATABASE_URL the key is required.
 */
export function secretKeyFor(config: Config): SecretKey {
  const known = resolved.get(config);
  if (known) return known;
  let hex = config.secretKey;
  if (!hex) {
    if (config.databaseUrl)
      throw new SecretKeyError(
        'SHOUHU_SECRET_KEY is not set. With DATABASE_URL the key that encrypts secrets at rest must come ' +
          'from the environment: generate one with `openssl rand -hex 32`, keep it with the database ' +
          'backups, and set SHOUHU_SECRET_KEY to it.',
      );
    hex = embeddedKeyHex(config.dataDir);
  }
  const key = secretKeyFromHex(hex);
  resolved.set(config, key);
  return key;
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** The id of the key a sealed value was made with, or null when it is not sealed. */
export function sealedKeyId(value: string): string | null {
  return isSealed(value) ? value.slice(PREFIX.length, PREFIX.length + 8) : null;
}

function tag(key: SecretKey, purpose: string, head: string, body: Buffer): Buffer {
  return createHmac('sm3', key.mac).update(`${purpose}\n${head}`).update(body).digest();
}

/** Seals a secret: `sm4$1$<key id>$<base64 iv|ciphertext|HMAC-SM3>`. `purpose` binds it to its use. */
export function seal(key: SecretKey, purpose: string, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('sm4-cbc', key.encryption, iv);
  const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]);
  const head = `${PREFIX}${key.id}$`;
  return head + Buffer.concat([body, tag(key, purpose, head, body)]).toString('base64');
}

/** Opens a sealed secret; throws SecretKeyError naming the problem when it was sealed otherwise. */
export function unseal(key: SecretKey, purpose: string, sealed: string): string {
  const keyId = sealedKeyId(sealed);
  if (keyId === null) throw new SecretKeyError('the value is not a sealed secret');
  if (keyId !== key.id)
    throw new SecretKeyError(
      `the secret was encrypted with key ${keyId}, but SHOUHU_SECRET_KEY is key ${key.id}: ` +
        'set the key the data was written with',
    );
  const head = sealed.slice(0, PREFIX.length + 9);
  const raw = Buffer.from(sealed.slice(head.length), 'base64');
  if (raw.length < IV_BYTES + 16 + TAG_BYTES) throw new SecretKeyError('the sealed secret is truncated');
  const body = raw.subarray(0, raw.length - TAG_BYTES);
  const given = raw.subarray(raw.length - TAG_BYTES);
  if (!timingSafeEqual(given, tag(key, purpose, head, body)))
    throw new SecretKeyError('the sealed secret fails its HMAC-SM3 check: it was altered or copied');
  const decipher = createDecipheriv('sm4-cbc', key.encryption, body.subarray(0, IV_BYTES));
  return Buffer.concat([decipher.update(body.subarray(IV_BYTES)), decipher.final()]).toString('utf8');
}
