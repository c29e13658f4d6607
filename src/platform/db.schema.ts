// The one typed Database interface. Each module declares its own tables in `<module>.tables.ts`;
// this file composes them. test/schema.test.ts proves it matches the migrated schema.
import type { PlatformTables } from './platform.tables.ts';
import type { RegionTables } from '../modules/regions/regions.tables.ts';
import type { RegistryTables } from '../modules/registry/registry.tables.ts';
import type { AccessTables } from '../modules/access/access.tables.ts';
import type { GroupTables } from '../modules/groups/groups.tables.ts';

export interface DB extends PlatformTables, RegionTables, AccessTables, RegistryTables, GroupTables {}
