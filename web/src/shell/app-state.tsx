// State that outlives a page: who is signed in (their role, region and permissions, from
// GET /auth/me), and the working region (当前区划) the user chose in the header. Pages read it with
// useAppState().
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { ApiError, hasSessionCookie, onSessionExpired } from '../api.ts';
import { authApi, type Me } from '../access/access.ts';
import type { RegionLevel, RegionRef } from '../regions.ts';

export interface WorkingRegion {
  code: string;
  name: string;
  level: RegionLevel;
  /** From the province down to and including this region. */
  path: RegionRef[];
}

/**
 * loading: asking the server who is signed in; signed-out: the sign-in page; signed-in: `me` is
 * set (possibly limited to a password change or TOTP enrolment); unavailable: the server did not
 * answer the first question, so nothing can be shown yet.
 */
export type SessionStatus = 'loading' | 'signed-out' | 'signed-in' | 'unavailable';

/** Why the sign-in page is showing, when it is not the first visit. */
export type SignInReason = 'expired' | 'signed-out' | null;

export interface AppState {
  /** The working region, always within the user's scope (null: the whole scope). */
  workingRegion: WorkingRegion | null;
  setWorkingRegion(region: WorkingRegion | null): void;
  status: SessionStatus;
  /** The signed-in user; null unless status is signed-in. */
  me: Me | null;
  signInReason: SignInReason;
  /** The message when status is unavailable. */
  loadError: string | null;
  /** Whether the signed-in user holds a permission (me.permissions). */
  can(permission: string): boolean;
  /** After a successful sign-in: the answer of POST /auth/login. */
  signedIn(me: Me): void;
  /** Asks the server again (after a password change or TOTP enrolment lifts a limitation); never throws. */
  refreshMe(): Promise<void>;
  /** Signs out this session, or every session of the user. */
  signOut(options?: { everywhere?: boolean }): Promise<void>;
  /**
   * The session ended while a form held typed input (see useUnsavedInput): the page stays, under a
   * sign-in of the same user (ReauthModal); once signed in again the clerk saves again.
   */
  reauthRequired: boolean;
  /** Gives up the kept page (another user signs in): the sign-in page, the typed input gone. */
  abandonKeptPage(): void;
  /** Counts a form with typed input while it lasts; returns the release. */
  holdInput(): () => void;
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

interface Session {
  status: SessionStatus;
  me: Me | null;
  reason: SignInReason;
  error: string | null;
  /** Ended on the server, kept on screen for typed input: see AppState.reauthRequired. */
  reauth?: boolean;
}

const AppStateContext = createContext<AppState | null>(null);

export function AppStateProvider({ children }: { children: ReactNode }) {
  const [workingRegion, setRegion] = useState<WorkingRegion | null>(storedRegion);
  // Without the session's cookies nobody is signed in: the sign-in page at once, without asking the
  // server a question it can only answer with 401.
  const [session, setSession] = useState<Session>(() => ({
    status: hasSessionCookie() ? 'loading' : 'signed-out',
    me: null,
    reason: null,
    error: null,
  }));
  const signedInRef = useRef(false);
  // Forms holding typed input now (useUnsavedInput). Only in memory: the input is children's data,
  // typed on shared phones, and never goes to localStorage or sessionStorage.
  const inputHeld = useRef(0);
  const holdInput = useCallback(() => {
    inputHeld.current++;
    let released = false;
    return () => {
      if (!released) inputHeld.current--;
      released = true;
    };
  }, []);
  useEffect(() => {
    signedInRef.current = session.status === 'signed-in';
  }, [session.status]);

  const setWorkingRegion = useCallback((region: WorkingRegion | null) => {
    setRegion(region);
    try {
      if (region) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(region));
      else sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Kept in memory only.
    }
  }, []);

  const endSession = useCallback(
    (reason: SignInReason) => {
      // A session that expired under typed input keeps the page (and the input) for a sign-in over it.
      if (reason === 'expired' && inputHeld.current > 0) {
        setSession((current) =>
          current.status === 'signed-in' && current.me ? { ...current, reauth: true } : current,
        );
        return;
      }
      setSession({ status: 'signed-out', me: null, reason, error: null });
      // The next person at this computer starts without the previous user's choices.
      if (reason !== 'expired') setWorkingRegion(null);
    },
    [setWorkingRegion],
  );

  const refreshMe = useCallback(async () => {
    try {
      const me = await authApi.me();
      setSession({ status: 'signed-in', me, reason: null, error: null });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        if (signedInRef.current && inputHeld.current > 0) {
          setSession((current) => (current.me ? { ...current, reauth: true } : current));
          return;
        }
        setSession((current) => ({
          status: 'signed-out',
          me: null,
          reason: current.status === 'signed-in' ? 'expired' : null,
          error: null,
        }));
        return;
      }
      // A signed-in user keeps working on what is known; only the first answer is essential.
      setSession((current) =>
        current.status === 'signed-in'
          ? current
          : { status: 'unavailable', me: null, reason: null, error: (error as Error).message },
      );
    }
  }, []);

  useEffect(() => {
    if (hasSessionCookie()) void refreshMe();
  }, [refreshMe]);

  useEffect(
    () =>
      onSessionExpired((replaced) => {
        // Another sign-in since the request went out (in another tab too): the page asks who is
        // signed in now rather than showing the ended session's user.
        if (replaced) void refreshMe();
        else if (signedInRef.current) endSession('expired');
      }),
    [endSession, refreshMe],
  );

  const signedIn = useCallback((me: Me) => {
    setSession({ status: 'signed-in', me, reason: null, error: null });
  }, []);

  const abandonKeptPage = useCallback(() => {
    setSession({ status: 'signed-out', me: null, reason: 'expired', error: null });
    setWorkingRegion(null);
  }, [setWorkingRegion]);

  const signOut = useCallback(
    async ({ everywhere = false }: { everywhere?: boolean } = {}) => {
      try {
        if (everywhere) await authApi.logoutEverywhere();
        else await authApi.logout();
      } catch (error) {
        // An already ended session is as good as signed out.
        if (!(error instanceof ApiError && error.status === 401)) throw error;
      }
      endSession('signed-out');
    },
    [endSession],
  );

  const me = session.me;
  // A remembered region outside the signed-in user's scope (chosen by the previous role of the
  // account, or before a change of scope) is no working region: every page falls back to the scope
  // rather than asking for what the server refuses.
  const inScope = workingRegion !== null && me !== null && isWithinScope(workingRegion.code, me.regionCode);
  useEffect(() => {
    if (workingRegion && me && !inScope) setWorkingRegion(null);
  }, [workingRegion, me, inScope, setWorkingRegion]);
  const permissions = useMemo(() => new Set(me?.permissions ?? []), [me]);
  const can = useCallback((permission: string) => permissions.has(permission), [permissions]);

  const value = useMemo<AppState>(
    () => ({
      workingRegion: inScope ? workingRegion : null,
      setWorkingRegion,
      status: session.status,
      me,
      signInReason: session.reason,
      loadError: session.error,
      can,
      signedIn,
      refreshMe,
      signOut,
      reauthRequired: session.status === 'signed-in' && session.reauth === true,
      abandonKeptPage,
      holdInput,
    }),
    [
      workingRegion,
      inScope,
      setWorkingRegion,
      session,
      me,
      can,
      signedIn,
      refreshMe,
      signOut,
      abandonKeptPage,
      holdInput,
    ],
  );
  return <AppStateContext.Provider value={value}>{children}</AppStateContext.Provider>;
}

/** Whether a region lies within a scope: the region itself or one below it ('' is the whole country). */
export function isWithinScope(code: string, scope: string): boolean {
  return code.startsWith(scope);
}

/** The working region narrows business pages; administrators and reporters have none to narrow. */
export function usesWorkingRegion(can: AppState['can']): boolean {
  return can('stats.read') || can('persons.read');
}

/**
 * While `active` (a form with typed, unsaved input), an expired session does not take the page away:
 * the user signs in again over it and saves again.
 */
export function useUnsavedInput(active: boolean): void {
  const { holdInput } = useAppState();
  useEffect(() => (active ? holdInput() : undefined), [active, holdInput]);
}

export function useAppState(): AppState {
  const state = useContext(AppStateContext);
  if (!state) throw new Error('useAppState() outside <AppStateProvider>');
  return state;
}
