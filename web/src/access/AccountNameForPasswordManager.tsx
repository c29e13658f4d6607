// A form that asks for the signed-in user's password carries the account name in a hidden field, so
// that a password manager offers (or files) the password under the right account.
import { useAppState } from '../shell/app-state.tsx';

export function AccountNameForPasswordManager() {
  const { me } = useAppState();
  return (
    <input
      type="text"
      name="username"
      autoComplete="username"
      value={me?.user.username ?? ''}
      readOnly
      hidden
    />
  );
}
