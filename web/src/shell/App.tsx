// The root: antd's theme and locale, app-wide state, and what the session allows: the sign-in
// page, a forced password change or TOTP enrolment, or the shell with the page for the current path.
import { Suspense, lazy, useEffect, type ReactNode } from 'react';
import { App as AntApp, Button, ConfigProvider, Result, Spin } from 'antd';
import zhCN from 'antd/es/locale/zh_CN';
import enUS from 'antd/es/locale/en_US';
import { ReauthModal } from '../access/ReauthModal.tsx';
import { SignIn } from '../access/SignIn.tsx';
import { defineMessages, htmlLang, useLang, useT } from '../i18n.ts';
import { ROUTES } from '../routes.ts';
import { matchPath, navigate, usePathname } from '../router.tsx';
import { AppStateProvider, useAppState } from './app-state.tsx';
import { AppShell, HEADER_HEIGHT } from './AppShell.tsx';
import { ErrorBoundary } from './ErrorBoundary.tsx';

// A sober blue and slightly denser controls: the look of county-government office software.
const PRIMARY = '#1a4d8f';
const SELECTED_BG = '#e6eef9';

const ForcedPasswordChange = lazy(() =>
  import('../access/ChangePassword.tsx').then((m) => ({ default: m.ForcedPasswordChange })),
);
const ForcedTwoFactorEnrollment = lazy(() =>
  import('../access/TwoFactorSetup.tsx').then((m) => ({ default: m.ForcedTwoFactorEnrollment })),
);

const messages = defineMessages(
  {
    forbidden: '无权访问此页面',
    forbiddenHint: '您的角色没有使用此页面的权限。如确需使用，请联系安全管理员。',
    unavailable: '无法连接服务器',
  },
  {
    forbidden: 'You may not open this page',
    forbiddenHint: 'Your role does not include this page. Ask the security administrator if you need it.',
    unavailable: 'Cannot reach the server',
  },
);

function Centered({ children }: { children: ReactNode }) {
  return (
    <div style={{ display: 'flex', justifyContent: 'center', paddingTop: 96 }} data-testid="page-loading">
      {children}
    </div>
  );
}

function Forbidden() {
  const t = useT(messages);
  const tc = useT();
  return (
    <Result
      status="403"
      title={t('forbidden')}
      subTitle={t('forbiddenHint')}
      extra={
        <Button type="primary" onClick={() => navigate('/')}>
          {tc('backHome')}
        </Button>
      }
    />
  );
}

function NotFound() {
  const t = useT();
  return (
    <Result
      status="404"
      title={t('pageNotFound')}
      extra={
        <Button type="primary" onClick={() => navigate('/')}>
          {t('backHome')}
        </Button>
      }
    />
  );
}

function CurrentPage() {
  const pathname = usePathname();
  const t = useT();
  const { can } = useAppState();
  for (const route of ROUTES) {
    const params = matchPath(route.path, pathname);
    if (params) {
      if (route.permission && !can(route.permission)) return <Forbidden />;
      const Page = route.page;
      return (
        <ErrorBoundary resetKey={pathname}>
          <Suspense
            fallback={
              <Centered>
                <Spin description={t('loading')} />
              </Centered>
            }
          >
            <Page params={params} />
          </Suspense>
        </ErrorBoundary>
      );
    }
  }
  return <NotFound />;
}

/** What the session allows to be shown. */
function Gate() {
  const t = useT();
  const tm = useT(messages);
  const { status, me, loadError } = useAppState();
  const loading = (
    <Centered>
      <Spin size="large" description={t('loading')} />
    </Centered>
  );
  if (status === 'loading') return loading;
  if (status === 'unavailable')
    return (
      <Result
        status="warning"
        title={tm('unavailable')}
        subTitle={loadError}
        extra={
          <Button type="primary" onClick={() => window.location.reload()}>
            {t('reload')}
          </Button>
        }
      />
    );
  if (status === 'signed-out' || !me) return <SignIn />;
  if (me.limitedTo === 'password_change')
    return (
      <Suspense fallback={loading}>
        <ForcedPasswordChange />
      </Suspense>
    );
  if (me.limitedTo === 'two_factor_enrollment')
    return (
      <Suspense fallback={loading}>
        <ForcedTwoFactorEnrollment />
      </Suspense>
    );
  return (
    <AppShell>
      <CurrentPage />
      <ReauthModal />
    </AppShell>
  );
}

export function App() {
  const lang = useLang();
  useEffect(() => {
    document.documentElement.lang = htmlLang(lang);
  }, [lang]);
  return (
    <ConfigProvider
      locale={lang === 'zh' ? zhCN : enUS}
      theme={{
        token: {
          colorPrimary: PRIMARY,
          borderRadius: 4,
          colorBgLayout: '#f2f4f7',
          // The palette antd derives from a dark blue gives grey selections; these read as chosen.
          controlItemBgActive: SELECTED_BG,
          controlItemBgActiveHover: '#dbe6f4',
        },
        components: {
          Layout: {
            headerBg: PRIMARY,
            headerHeight: HEADER_HEIGHT,
            headerPadding: '0 16px',
            siderBg: '#fff',
          },
          Menu: {
            itemHeight: 40,
            itemMarginBlock: 2,
            itemSelectedBg: SELECTED_BG,
            itemSelectedColor: PRIMARY,
          },
          Tree: { nodeSelectedBg: SELECTED_BG, nodeSelectedColor: PRIMARY },
          Cascader: { optionSelectedBg: SELECTED_BG },
          Descriptions: { labelBg: '#f7f8fa' },
        },
      }}
    >
      <AntApp>
        <AppStateProvider>
          <Gate />
        </AppStateProvider>
      </AntApp>
    </ConfigProvider>
  );
}
