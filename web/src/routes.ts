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
}

const Home = lazy(() => import('./pages/Home.tsx'));
const RegionBrowser = lazy(() => import('./pages/RegionBrowser.tsx'));

export const ROUTES: readonly Route[] = [
  { path: '/', page: Home },
  { path: '/regions', page: RegionBrowser },
  { path: '/regions/:code', page: RegionBrowser },
];
