// Phone layout below 768px (antd's `md` breakpoint): village child directors work on phones.
import { useSyncExternalStore } from 'react';

const PHONE_QUERY = '(max-width: 767.98px)';

function subscribe(listener: () => void): () => void {
  const query = window.matchMedia(PHONE_QUERY);
  query.addEventListener('change', listener);
  return () => query.removeEventListener('change', listener);
}

/** Read synchronously on first render, so a phone never flashes the desktop layout. */
export function useIsPhone(): boolean {
  return useSyncExternalStore(subscribe, () => window.matchMedia(PHONE_QUERY).matches);
}

/**
 * A link a thumb must hit on a phone: at least 44 px high (Apple's and WCAG 2.5.5's target size),
 * the text centred in it.
 */
export const PHONE_TAP_TARGET = {
  display: 'inline-flex',
  alignItems: 'center',
  minHeight: 44,
  minWidth: 44,
} as const;
