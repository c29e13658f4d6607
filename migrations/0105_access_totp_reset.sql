-- Two-factor enrolment that an administrator reset (a lost phone, a suspected copy of the seed):
-- the user must enrol a new authenticator at the next sign-in before doing anything else, even in
-- a role where two-factor sign-in is optional. Cleared when the new enrolment is confirmed.
-- totp_secret holds the seed sealed with SM4 + HMAC-SM3 ('sm4$1$...'); seeds written before that
-- are sealed at the next start (src/modules/access/access.service.ts, sealTotpSecrets).
ALTER TABLE users ADD COLUMN must_enroll_totp boolean NOT NULL DEFAULT false;
