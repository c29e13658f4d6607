// The title line of a page, which also names the browser tab.
import { useEffect, type ReactNode } from 'react';
import { Typography } from 'antd';
import { useT } from '../i18n.ts';

export function PageTitle({ title, extra }: { title: string; extra?: ReactNode }) {
  const t = useT();
  const product = t('productName');
  useEffect(() => {
    document.title = `${title} - ${product}`;
  }, [title, product]);
  return (
    <div style={{ display: 'flex', alignItems: 'center', gap: 12, flexWrap: 'wrap', marginBottom: 12 }}>
      {/* The title keeps room for a few words; the page's controls wrap below it on a phone. */}
      <Typography.Title level={4} style={{ margin: 0, flex: '1 1 auto', minWidth: 'min(100%, 10em)' }}>
        {title}
      </Typography.Title>
      {extra}
    </div>
  );
}
