// The navigation menu as data. A capability adds one entry here and one route in routes.ts.
import type { ReactNode } from 'react';
import {
  ApartmentOutlined,
  AuditOutlined,
  BarChartOutlined,
  BellOutlined,
  ExportOutlined,
  HomeOutlined,
  ImportOutlined,
  MergeCellsOutlined,
  SafetyCertificateOutlined,
  TeamOutlined,
  UserOutlined,
} from '@ant-design/icons';
import type { Localized } from '../i18n.ts';

export interface MenuEntry {
  key: string;
  icon: ReactNode;
  label: Localized;
  /** Where the entry leads; it is also active on every path below it. */
  path: string;
  /** Shown only to users holding this permission; entries without one are shown to everyone. */
  permission?: string;
}

export const MENU: readonly MenuEntry[] = [
  { key: 'home', icon: <HomeOutlined />, label: { zh: '首页', en: 'Home' }, path: '/' },
  {
    key: 'regions',
    icon: <ApartmentOutlined />,
    label: { zh: '行政区划', en: 'Regions' },
    path: '/regions',
    permission: 'regions.read',
  },
  {
    key: 'persons',
    icon: <UserOutlined />,
    label: { zh: '人员查询', en: 'Persons' },
    path: '/persons',
    permission: 'persons.read',
  },
  {
    key: 'duplicates',
    icon: <MergeCellsOutlined />,
    label: { zh: '疑似重复人员', en: 'Possible duplicates' },
    path: '/persons/duplicates',
    permission: 'persons.merge',
  },
  {
    key: 'imports',
    icon: <ImportOutlined />,
    label: { zh: '数据导入', en: 'Imports' },
    path: '/imports',
    permission: 'imports.run',
  },
  {
    key: 'exports',
    icon: <ExportOutlined />,
    label: { zh: '数据导出', en: 'Export' },
    path: '/exports',
    permission: 'exports.run',
  },
  {
    key: 'worklist',
    icon: <BellOutlined />,
    label: { zh: '待办事项', en: 'Worklist' },
    path: '/worklist',
    permission: 'worklist.read',
  },
  {
    key: 'group-stats',
    icon: <BarChartOutlined />,
    label: { zh: '关爱对象统计', en: 'Care group statistics' },
    path: '/stats/groups',
    permission: 'stats.read',
  },
  // The three administrators' pages (三员分立): each sees only its own.
  {
    key: 'users',
    icon: <TeamOutlined />,
    label: { zh: '用户管理', en: 'Users' },
    path: '/admin/users',
    permission: 'users.manage',
  },
  {
    key: 'roles',
    icon: <SafetyCertificateOutlined />,
    label: { zh: '角色与范围', en: 'Roles' },
    path: '/admin/roles',
    permission: 'roles.assign',
  },
  {
    key: 'audit',
    icon: <AuditOutlined />,
    label: { zh: '审计日志', en: 'Audit log' },
    path: '/admin/audit',
    permission: 'audit.read',
  },
];

export function visibleEntries(
  entries: readonly MenuEntry[],
  can: (permission: string) => boolean,
): MenuEntry[] {
  return entries.filter((entry) => !entry.permission || can(entry.permission));
}

/** The entry whose path is the longest prefix of the current path. */
export function activeEntry(entries: readonly MenuEntry[], pathname: string): MenuEntry | undefined {
  let best: MenuEntry | undefined;
  for (const entry of entries) {
    const within =
      entry.path === '/'
        ? pathname === '/'
        : pathname === entry.path || pathname.startsWith(`${entry.path}/`);
    if (within && (!best || entry.path.length > best.path.length)) best = entry;
  }
  return best;
}
