// Paths to pages. Every page is its own chunk, loaded when first visited, so a page that draws
// charts brings echarts with it and no other page pays for it.
import { lazy, type ComponentType, type LazyExoticComponent } from 'react';
import type { Params } from './router.tsx';

export interface PageProps {
  params: Params;
}

export interface Route {
  /** `/segment/:param` patterns, matched whole. */
  path: string;
  page: LazyExoticComponent<ComponentType<PageProps>>;
  /** Only users holding this permission see the page; others get a refusal, not a broken page. */
  permission?: string;
}

const Home = lazy(() => import('./pages/Home.tsx'));
const RegionBrowser = lazy(() => import('./pages/RegionBrowser.tsx'));
const ChangePassword = lazy(() => import('./access/ChangePassword.tsx'));
const TwoFactor = lazy(() => import('./access/TwoFactorSetup.tsx'));
const MyTokens = lazy(() => import('./access/MyTokens.tsx'));
const Users = lazy(() => import('./pages/admin/Users.tsx'));
const Roles = lazy(() => import('./pages/admin/Roles.tsx'));
const Audit = lazy(() => import('./pages/admin/Audit.tsx'));
const GroupStats = lazy(() => import('./pages/GroupStats.tsx'));
const Worklist = lazy(() => import('./pages/Worklist.tsx'));
const Persons = lazy(() => import('./pages/Persons.tsx'));
const Person = lazy(() => import('./pages/Person.tsx'));
const PersonEdit = lazy(() => import('./pages/PersonEdit.tsx'));
const Duplicates = lazy(() => import('./pages/Duplicates.tsx'));
const Household = lazy(() => import('./pages/Household.tsx'));
const HouseholdEdit = lazy(() => import('./pages/HouseholdEdit.tsx'));
const Imports = lazy(() => import('./pages/Imports.tsx'));
const Exports = lazy(() => import('./pages/Exports.tsx'));

export const ROUTES: readonly Route[] = [
  { path: '/', page: Home },
  { path: '/regions', page: RegionBrowser, permission: 'regions.read' },
  { path: '/regions/:code', page: RegionBrowser, permission: 'regions.read' },
  { path: '/account/password', page: ChangePassword },
  { path: '/account/two-factor', page: TwoFactor },
  { path: '/account/tokens', page: MyTokens, permission: 'tokens.own' },
  { path: '/admin/users', page: Users, permission: 'users.manage' },
  { path: '/admin/roles', page: Roles, permission: 'roles.assign' },
  { path: '/admin/audit', page: Audit, permission: 'audit.read' },
  { path: '/stats/groups', page: GroupStats, permission: 'stats.read' },
  { path: '/stats/groups/:code', page: GroupStats, permission: 'stats.read' },
  { path: '/worklist', page: Worklist, permission: 'worklist.read' },
  { path: '/persons', page: Persons, permission: 'persons.read' },
  // Fixed paths before /persons/:id, which would match them too (the first match wins).
  { path: '/persons/new', page: PersonEdit, permission: 'persons.write' },
  { path: '/persons/duplicates', page: Duplicates, permission: 'persons.merge' },
  { path: '/persons/:id', page: Person, permission: 'persons.read' },
  { path: '/persons/:id/edit', page: PersonEdit, permission: 'persons.write' },
  { path: '/households/new', page: HouseholdEdit, permission: 'persons.write' },
  { path: '/households/:id', page: Household, permission: 'persons.read' },
  { path: '/households/:id/edit', page: HouseholdEdit, permission: 'persons.write' },
  { path: '/imports', page: Imports, permission: 'imports.run' },
  { path: '/imports/:id', page: Imports, permission: 'imports.run' },
  { path: '/exports', page: Exports, permission: 'exports.run' },
];
