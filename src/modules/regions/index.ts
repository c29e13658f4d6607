export { regionRoutes } from './regions.routes.ts';
export { regionsLoadJob } from './regions.jobs.ts';
export {
  loadRegions,
  loadCountyIfMissing,
  getRegion,
  getChildren,
  searchRegions,
  levelOfCode,
  ancestorCodes,
  isWithin,
  LEVEL_NAMES,
  LEVEL_LABELS,
  type LevelName,
  type LoadResult,
} from './regions.service.ts';
export { subtreeRange, findRegion } from './regions.repository.ts';
export { RegionCode, REGION_CODE_PATTERN } from './regions.schemas.ts';
export type { RegionTables } from './regions.tables.ts';
export { DIVISION_DATA_DATE, readDivision, type SourceRegion } from './regions.source.ts';
