// The frame of the pages shown before the shell: sign-in, and the forced password change and TOTP
// enrolment. A blue band with the product's name, one card on it, the language switch, and the
// notice that the system is for authorised staff only.
import { useEffect, type ReactNode } from 'react';
import { Card, Typography } from 'antd';
import { defineMessages, useLang, useT } from '../i18n.ts';
import { LanguageSwitch } from '../shell/LanguageSwitch.tsx';
import { Logo } from '../shell/Logo.tsx';
import { useIsPhone } from '../shell/responsive.ts';

const messages = defineMessages(
  {
    notice: '本系统含未成年人等个人敏感信息，仅限授权工作人员使用；所有操作均记录审计。',
  },
  {
    notice:
      'This system holds sensitive personal information, including about minors. For authorised staff only; every action is audited.',
  },
);

export function AuthFrame({
  title,
  width = 400,
  children,
}: {
  /** Names the browser tab. */
  title: string;
  width?: number;
  children: ReactNode;
}) {
  const t = useT();
  const tm = useT(messages);
  const lang = useLang();
  const isPhone = useIsPhone();
  const product = t('productName');
  useEffect(() => {
    document.title = `${title} - ${product}`;
  }, [title, product]);

  return (
    <div style={{ minHeight: '100%', background: '#f2f4f7', display: 'flex', flexDirection: 'column' }}>
      <div
        style={{
          background: 'linear-gradient(160deg, #1a4d8f 0%, #143d73 100%)',
          color: '#fff',
          padding: isPhone ? '12px 16px 72px' : '16px 24px 96px',
        }}
      >
        <div style={{ display: 'flex', justifyContent: 'flex-end' }}>
          <LanguageSwitch size="small" />
        </div>
        <div style={{ textAlign: 'center', marginTop: isPhone ? 8 : 24 }}>
          <div style={{ display: 'inline-flex', alignItems: 'center', gap: 12 }}>
            <Logo size={isPhone ? 36 : 44} />
            <span
              style={{ fontSize: isPhone ? 26 : 32, fontWeight: 600, letterSpacing: lang === 'zh' ? 4 : 0 }}
            >
              {product}
            </span>
          </div>
          <div style={{ marginTop: 8, fontSize: isPhone ? 13 : 14, opacity: 0.85 }}>
            {t('productTagline')}
          </div>
        </div>
      </div>
      <div style={{ flex: 1, padding: isPhone ? '0 12px 24px' : '0 24px 32px' }}>
        <Card
          style={{
            maxWidth: width,
            margin: `${isPhone ? -52 : -64}px auto 0`,
            boxShadow: '0 6px 24px rgba(15, 40, 80, 0.12)',
          }}
          styles={{ body: { padding: isPhone ? 20 : 28 } }}
        >
          {children}
        </Card>
        <Typography.Paragraph
          type="secondary"
          style={{ maxWidth: width, margin: '16px auto 0', fontSize: 12, textAlign: 'center' }}
        >
          {tm('notice')}
        </Typography.Paragraph>
      </div>
    </div>
  );
}
