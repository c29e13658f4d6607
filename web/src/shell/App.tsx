// The root: antd's theme and locale, app-wide state, the shell, and the page for the current path.
import { Suspense, useEffect } from 'react';
import { App as AntApp, Button, ConfigProvider, Result, Spin } from 'antd';
import zhCN from 'antd/es/locale/zh_CN';
import enUS from 'antd/es/locale/en_US';
import { htmlLang, useLang, useT } from '../i18n.ts';
import { ROUTES } from '../routes.ts';
import { matchPath, navigate, usePathname } from '../router.tsx';
import { AppStateProvider } from './app-state.tsx';
import { AppShell, HEADER_HEIGHT } from './AppShell.tsx';
import { ErrorBoundary } from './ErrorBoundary.tsx';

// A sober blue and slightly denser controls: the look of county-government office software.
const PRIMARY = '#1a4d8f';

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
  for (const route of ROUTES) {
    const params = matchPath(route.path, pathname);
    if (params) {
      const Page = route.page;
      return (
        <ErrorBoundary resetKey={pathname}>
          <Suspense fallback={<Spin description={t('loading')} style={{ display: 'block', marginTop: 64 }} />}>
            <Page params={params} />
          </Suspense>
        </ErrorBoundary>
      );
    }
  }
  return <NotFound />;
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
        token: { colorPrimary: PRIMARY, colorInfo: PRIMARY, borderRadius: 4, colorBgLayout: '#f2f4f7' },
        components: {
          Layout: { headerBg: PRIMARY, headerHeight: HEADER_HEIGHT, headerPadding: '0 16px', siderBg: '#fff' },
          Menu: { itemHeight: 40, itemMarginBlock: 2 },
          Descriptions: { labelBg: '#f7f8fa' },
        },
      }}
    >
      <AntApp>
        <AppStateProvider>
          <AppShell>
            <CurrentPage />
          </AppShell>
        </AppStateProvider>
      </AntApp>
    </ConfigProvider>
  );
}
