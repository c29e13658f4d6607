// The sign-out link under the forced password-change and two-factor screens.
import { App, Button } from 'antd';
import { useAppState } from '../shell/app-state.tsx';

export function SignOutLink({ label }: { label: string }) {
  const { signOut } = useAppState();
  const { message } = App.useApp();
  return (
    <Button
      type="link"
      block
      style={{ marginTop: 8 }}
      onClick={() => void signOut().catch((error: unknown) => void message.error((error as Error).message))}
    >
      {label}
    </Button>
  );
}
