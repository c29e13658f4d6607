// The frame around every page: header (product, working region, language, the signed-in user),
// the menu as a collapsible side bar on desktops and as a drawer on phones, and the page itself.
import { useState, type ReactNode } from 'react';
import { Button, Drawer, Layout, Menu, Tooltip, theme } from 'antd';
import { MenuFoldOutlined, MenuOutlined, MenuUnfoldOutlined } from '@ant-design/icons';
import { UserMenu } from '../access/UserMenu.tsx';
import { pick, useLang, useT } from '../i18n.ts';
import { navigate, usePathname } from '../router.tsx';
import { useAppState, usesWorkingRegion } from './app-state.tsx';
import { LanguageSwitch } from './LanguageSwitch.tsx';
import { Logo } from './Logo.tsx';
import { MENU, activeEntry, visibleEntries } from './menu.tsx';
import { RegionSelector } from './RegionSelector.tsx';
import { useIsPhone } from './responsive.ts';

export const HEADER_HEIGHT = 52;
const SIDER_WIDTH = 208;
const COLLAPSED_KEY = 'shouhu.siderCollapsed';

function NavMenu({ collapsed = false, onNavigate }: { collapsed?: boolean; onNavigate?: () => void }) {
  const lang = useLang();
  const pathname = usePathname();
  const { can } = useAppState();
  const entries = visibleEntries(MENU, can);
  const active = activeEntry(entries, pathname);
  return (
    <Menu
      mode="inline"
      inlineCollapsed={collapsed}
      selectedKeys={active ? [active.key] : []}
      items={entries.map((entry) => ({ key: entry.key, icon: entry.icon, label: pick(entry.label, lang) }))}
      onClick={({ key }) => {
        const entry = entries.find((e) => e.key === key);
        if (entry) navigate(entry.path);
        onNavigate?.();
      }}
      style={{ borderInlineEnd: 'none' }}
    />
  );
}

function readCollapsed(): boolean {
  try {
    return localStorage.getItem(COLLAPSED_KEY) === '1';
  } catch {
    return false;
  }
}

export function AppShell({ children }: { children: ReactNode }) {
  const t = useT();
  const lang = useLang();
  const isPhone = useIsPhone();
  const { token } = theme.useToken();
  const { can } = useAppState();
  const usesRegion = usesWorkingRegion(can);
  const [collapsed, setCollapsed] = useState(readCollapsed);
  const [drawerOpen, setDrawerOpen] = useState(false);

  const toggleCollapsed = () => {
    const next = !collapsed;
    setCollapsed(next);
    try {
      localStorage.setItem(COLLAPSED_KEY, next ? '1' : '0');
    } catch {
      // Remembered for this page only.
    }
  };

  const menuButton = isPhone ? (
    <Button
      type="text"
      icon={<MenuOutlined />}
      aria-label={t('openMenu')}
      data-testid="menu-button"
      onClick={() => setDrawerOpen(true)}
      style={{ color: '#fff' }}
    />
  ) : (
    <Tooltip title={collapsed ? t('expandMenu') : t('collapseMenu')} placement="bottomLeft">
      <Button
        type="text"
        icon={collapsed ? <MenuUnfoldOutlined /> : <MenuFoldOutlined />}
        aria-label={collapsed ? t('expandMenu') : t('collapseMenu')}
        data-testid="menu-button"
        onClick={toggleCollapsed}
        style={{ color: '#fff' }}
      />
    </Tooltip>
  );

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Header
        style={{
          position: 'sticky',
          top: 0,
          zIndex: 100,
          display: 'flex',
          alignItems: 'center',
          gap: isPhone ? 8 : 12,
          color: '#fff',
          boxShadow: '0 1px 4px rgba(0, 21, 41, 0.25)',
        }}
      >
        {menuButton}
        <a
          href="/"
          onClick={(event) => {
            event.preventDefault();
            navigate('/');
          }}
          style={{ display: 'flex', alignItems: 'center', gap: 8, color: '#fff', minWidth: 0 }}
        >
          <Logo />
          <span
            style={{
              fontSize: 18,
              fontWeight: 600,
              letterSpacing: lang === 'zh' ? 2 : 0,
              whiteSpace: 'nowrap',
            }}
          >
            {lang === 'zh' ? '守护' : 'Shouhu'}
          </span>
          {!isPhone && (
            <span
              style={{
                fontSize: 13,
                opacity: 0.8,
                whiteSpace: 'nowrap',
                overflow: 'hidden',
                textOverflow: 'ellipsis',
              }}
            >
              {lang === 'zh' ? 'Shouhu · ' : '守护 · '}
              {t('productTagline')}
            </span>
          )}
        </a>
        <div style={{ flex: 1 }} />
        {!isPhone && usesRegion && <RegionSelector />}
        <LanguageSwitch size={isPhone ? 'small' : 'middle'} />
        <UserMenu compact={isPhone} />
      </Layout.Header>
      <Layout>
        {!isPhone && (
          <Layout.Sider
            theme="light"
            width={SIDER_WIDTH}
            collapsedWidth={64}
            collapsed={collapsed}
            trigger={null}
            style={{
              position: 'sticky',
              top: HEADER_HEIGHT,
              height: `calc(100vh - ${HEADER_HEIGHT}px)`,
              overflow: 'auto',
              borderInlineEnd: `1px solid ${token.colorBorderSecondary}`,
            }}
          >
            <NavMenu collapsed={collapsed} />
          </Layout.Sider>
        )}
        {isPhone && (
          <Drawer
            placement="left"
            size={280}
            open={drawerOpen}
            onClose={() => setDrawerOpen(false)}
            title={
              <div>
                <div>{t('productName')}</div>
                <div
                  style={{ fontWeight: 400, fontSize: 12, lineHeight: 1.5, color: token.colorTextSecondary }}
                >
                  {t('productTagline')}
                </div>
              </div>
            }
            data-testid="menu-drawer"
            styles={{ body: { padding: 0 } }}
          >
            {usesRegion && (
              <div style={{ padding: 12, borderBottom: `1px solid ${token.colorBorderSecondary}` }}>
                <div style={{ fontSize: 12, color: token.colorTextSecondary, marginBottom: 6 }}>
                  {t('workingRegion')}
                </div>
                <RegionSelector block />
              </div>
            )}
            <NavMenu onNavigate={() => setDrawerOpen(false)} />
          </Drawer>
        )}
        <Layout.Content style={{ padding: isPhone ? 12 : 16, minWidth: 0 }}>{children}</Layout.Content>
      </Layout>
    </Layout>
  );
}
