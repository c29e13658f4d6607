// State that outlives a page: the working region (当前区划) the user chose in the header, and, once
// sign-in arrives, the signed-in user's permissions. Pages read it with useAppState().
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import type { RegionLevel, RegionRef } from '../regions.ts';

export interface WorkingRegion {
  code: string;
  name: string;
  level: RegionLevel;
  /** From the province down to and including this region. */
  path: RegionRef[];
}

export interface AppState {
  workingRegion: WorkingRegion | null;
  setWorkingRegion(region: WorkingRegion | null): void;
  /** Whether the signed-in user holds a permission; false for every permission until sign-in exists. */
  can(permission: string): boolean;
}

// Per browser tab and session, not per machine: a shared office computer should not carry one
// user's region over to the next.
const STORAGE_KEY = 'shouhu.workingRegion';

function storedRegion(): WorkingRegion | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    const value: unknown = raw ? JSON.parse(raw) : null;
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as WorkingRegion).code === 'string' &&
      Array.isArray((value as WorkingRegion).path)
    )
      return value as WorkingRegion;
  } catch {
    // Unreadable storage means no remembered region.
  }
  return null;
}

const AppStateContext = createContext<AppState | null>(null);

export function AppStateProvider({ children }: { children: ReactNode }) {
  const [workingRegion, setRegion] = useState<WorkingRegion | null>(storedRegion);
  const setWorkingRegion = useCallback((region: WorkingRegion | null) => {
    setRegion(region);
    try {
      if (region) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(region));
      else sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Kept in memory only.
    }
  }, []);
  const can = useCallback((_permission: string) => false, []);
  const value = useMemo(() => ({ workingRegion, setWorkingRegion, can }), [workingRegion, setWorkingRegion, can]);
  return <AppStateContext.Provider value={value}>{children}</AppStateContext.Provider>;
}

export function useAppState(): AppState {
  const state = useContext(AppStateContext);
  if (!state) throw new Error('useAppState() outside <AppStateProvider>');
  return state;
}
