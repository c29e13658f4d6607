// The access module's public surface: other modules import from here only.
export * from './access.policy.ts';
export { accessRoutes, actorOf, SESSION_COOKIE, CSRF_COOKIE, CSRF_HEADER } from './access.routes.ts';
export {
  audit,
  auditRead,
  recordRead,
  recordReveal,
  systemActor,
  verifyAuditChain,
  AUDIT_HASH_ALG,
  type AuditActor,
  type AuditEntry,
  type AuditResult,
  type ChainReport,
} from './audit.ts';
export { maskForActor, maskValue, revealForActor, type SensitiveKind } from './access.masking.ts';
export { passwordProblems, regionFitsRole } from './access.rules.ts';
export {
  ensureDemoUser,
  createAdminAccount,
  createToken,
  hashPassword,
  sealTotpSecret,
  signInGuard,
  stillSignedIn,
  sealTotpSecrets,
  userNames,
} from './access.service.ts';
export { accessCommands } from './access.cli.ts';
export { prepareDemoUsers, DEMO_PASSWORD } from './access.demo.ts';
export type { AccessTables } from './access.tables.ts';
