// Names for the region codes a page shows (an account's or a token's home region, a household's or a
// person's village). Fetched once per code and kept for the page's life; a code that cannot be read
// stays a code.
import { useEffect, useState } from 'react';
import { regionsApi } from '../regions.ts';

const known = new Map<string, Promise<string | null>>();

function nameOf(code: string): Promise<string | null> {
  let pending = known.get(code);
  if (!pending) {
    pending = regionsApi
      .get(code)
      .then((detail) => [...detail.path.map((step) => step.name), detail.name].slice(-2).join(' '))
      .catch(() => null);
    known.set(code, pending);
  }
  return pending;
}

/** `names[code]`: e.g. 开封市 兰考县 for 410225 (the region and its parent). */
export function useRegionNames(codes: readonly (string | null | undefined)[]): Record<string, string> {
  const [names, setNames] = useState<Record<string, string>>({});
  const wanted = [...new Set(codes.filter((code): code is string => !!code))].sort().join(',');
  useEffect(() => {
    let live = true;
    for (const code of wanted ? wanted.split(',') : []) {
      void nameOf(code).then((name) => {
        if (live && name)
          setNames((current) => (current[code] === name ? current : { ...current, [code]: name }));
      });
    }
    return () => {
      live = false;
    };
  }, [wanted]);
  return names;
}
