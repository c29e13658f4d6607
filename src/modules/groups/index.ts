// The groups module's public surface: other modules import from here only.

export * from './groups.config.ts';
export * from './groups.rules.ts';
export { groupRoutes } from './groups.routes.ts';
export {
  registerGroupsJobs,
  scheduleGroupsDaily,
  groupsPersonJob,
  groupsEvaluateJob,
  followImport,
  evaluationSubtrees,
} from './groups.jobs.ts';
export { groupCommands } from './groups.cli.ts';
export {
  reevaluateAfterChange,
  evaluatePerson,
  evaluateRegion,
  type EvaluateCounts,
  type EvaluateOptions,
} from './groups.evaluate.ts';
export {
  groupsOfPerson,
  inGroup,
  isGroupCode,
  effectiveConfig,
  followPersonChange,
  personGroupsProvider,
  type PersonGroup,
} from './groups.service.ts';
export { DEFAULT_EFFECTIVE_CONFIG, type EffectiveGroupsConfig } from './groups.settings.ts';
export { reviewLedgerRows } from './groups.ledger-review.ts';
export type { GroupTables } from './groups.tables.ts';
