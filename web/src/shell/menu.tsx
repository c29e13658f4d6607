// The navigation menu as data. A capability adds one entry here and one route in routes.ts.
import type { ReactNode } from 'react';
import { ApartmentOutlined, HomeOutlined } from '@ant-design/icons';
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
  { key: 'regions', icon: <ApartmentOutlined />, label: { zh: '行政区划', en: 'Regions' }, path: '/regions' },
];

export function visibleEntries(entries: readonly MenuEntry[], can: (permission: string) => boolean): MenuEntry[] {
  return entries.filter((entry) => !entry.permission || can(entry.permission));
}

/** The entry whose path is the longest prefix of the current path. */
export function activeEntry(entries: readonly MenuEntry[], pathname: string): MenuEntry | undefined {
  let best: MenuEntry | undefined;
  for (const entry of entries) {
    const within = entry.path === '/' ? pathname === '/' : pathname === entry.path || pathname.startsWith(`${entry.path}/`);
    if (within && (!best || entry.path.length > best.path.length)) best = entry;
  }
  return best;
}
