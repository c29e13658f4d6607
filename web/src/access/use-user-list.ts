// The account list of the Users and Roles pages: a search, pages fetched by cursor and appended,
// and rows replaced in place after a change (each change returns the account's new version).
import { useCallback, useEffect, useRef, useState } from 'react';
import { usersApi, type UserView } from './access.ts';

const PAGE = 50;

export function useUserList(q: string) {
  const [items, setItems] = useState<UserView[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  // The first-page request a page answers: a 加载更多 of an earlier search that answers late is
  // dropped, so that its rows and cursor never mix with the current search's.
  const asked = useRef(0);

  useEffect(() => {
    let live = true;
    const mine = ++asked.current;
    setLoading(true);
    setError(null);
    // The earlier search's cursor means nothing for this one (it would skip every row below it).
    setNextCursor(null);
    usersApi
      .list({ q: q || undefined, limit: PAGE })
      .then((page) => {
        if (!live || mine !== asked.current) return;
        setItems(page.items);
        setNextCursor(page.nextCursor);
      })
      .catch((e: unknown) => {
        if (!live || mine !== asked.current) return;
        // This search's rows are unknown: the earlier search's rows are not its answer.
        setItems([]);
        setNextCursor(null);
        setError((e as Error).message);
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [q, generation]);

  const loadMore = useCallback(() => {
    if (!nextCursor) return;
    const mine = asked.current;
    setLoading(true);
    usersApi
      .list({ q: q || undefined, limit: PAGE, cursor: nextCursor })
      .then((page) => {
        if (mine !== asked.current) return;
        setItems((current) => [...current, ...page.items]);
        setNextCursor(page.nextCursor);
      })
      .catch((e: unknown) => mine === asked.current && setError((e as Error).message))
      .finally(() => mine === asked.current && setLoading(false));
  }, [q, nextCursor]);

  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  const replace = useCallback(
    (user: UserView) => setItems((current) => current.map((u) => (u.id === user.id ? user : u))),
    [],
  );
  const prepend = useCallback((user: UserView) => setItems((current) => [user, ...current]), []);

  return { items, nextCursor, loading, error, loadMore, reload, replace, prepend };
}
