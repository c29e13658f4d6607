// Catches a page that fails to render or whose chunk fails to load (after a release replaces the
// old hashed files), and offers a reload instead of a blank screen.
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { Button, Result } from 'antd';
import { common, translate } from '../i18n.ts';

interface Props {
  /** A new key (the path) clears the error when the user navigates away. */
  resetKey: string;
  children: ReactNode;
}

interface State {
  failed: boolean;
  key: string;
}

export class ErrorBoundary extends Component<Props, State> {
  override state: State = { failed: false, key: this.props.resetKey };

  static getDerivedStateFromError(): Partial<State> {
    return { failed: true };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    return props.resetKey === state.key ? null : { failed: false, key: props.resetKey };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(error, info.componentStack);
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <Result
        status="warning"
        title={translate(common, 'pageFailed')}
        subTitle={translate(common, 'pageFailedHint')}
        extra={
          <Button type="primary" onClick={() => window.location.reload()}>
            {translate(common, 'reload')}
          </Button>
        }
      />
    );
  }
}
