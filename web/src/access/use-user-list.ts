// The account list of the Users and Roles pages: a search, pages fetched by cursor and appended,
// and rows replaced in place after a change (each change returns the account's new version).
import { useCallback, useEffect, useState } from 'react';
import { usersApi, type UserView } from './access.ts';

const PAGE = 50;

export function useUserList(q: string) {
  const [items, setItems] = useState<UserView[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    usersApi
      .list({ q: q || undefined, limit: PAGE })
      .then((page) => {
        if (!live) return;
        setItems(page.items);
        setNextCursor(page.nextCursor);
      })
      .catch((e: unknown) => live && setError((e as Error).message))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [q, generation]);

  const loadMore = useCallback(() => {
    if (!nextCursor) return;
    setLoading(true);
    usersApi
      .list({ q: q || undefined, limit: PAGE, cursor: nextCursor })
      .then((page) => {
        setItems((current) => [...current, ...page.items]);
        setNextCursor(page.nextCursor);
      })
      .catch((e: unknown) => setError((e as Error).message))
      .finally(() => setLoading(false));
  }, [q, nextCursor]);

  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  const replace = useCallback(
    (user: UserView) => setItems((current) => current.map((u) => (u.id === user.id ? user : u))),
    [],
  );
  const prepend = useCallback((user: UserView) => setItems((current) => [user, ...current]), []);

  return { items, nextCursor, loading, error, loadMore, reload, replace, prepend };
}
