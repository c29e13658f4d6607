// The registry module's public surface: other modules import from here only.

export * from './registry.facts.ts';
export { registryRoutes } from './registry.routes.ts';
export { asOfAheadProblem, latestAsOfDay, nameSpellings } from './registry.rules.ts';
export { maskIdNumber, normalizeIdNumber, idTail } from './registry.idnumber.ts';
export type { RegistryTables } from './registry.tables.ts';
export { registryImportJob } from './registry.jobs.ts';
export { importRegistryFile, type Importer, type ImportOutcome } from './registry.import.ts';
export {
  onImportCommitted,
  type ImportCommitted,
  type ImportCommittedListener,
} from './registry.import-events.ts';
export { registryRecords } from './registry.export.ts';
export { registryCommands, prepareDemoRegistry } from './registry.cli.ts';
export {
  importLedgerFile,
  reviewLedgerWith,
  type LedgerReviewer,
  type LedgerImportOutcome,
} from './registry.import-ledger.ts';
export type { LedgerDisagreement, LedgerQuestion, LedgerReview, LedgerReviewRow } from './registry.ledger.ts';
export { onPersonChanged, type PersonChangeListener } from './registry.service.ts';
export {
  setGroupProvider,
  type GroupPeriod,
  type GroupProvider,
  type PersonChange,
} from './registry.service.ts';
