// 中文 | English, in the header and on the sign-in page.
import { Segmented } from 'antd';
import { LANGS, setLang, useLang, useT, type Lang } from '../i18n.ts';

const LANG_NAMES: Record<Lang, string> = { zh: '中文', en: 'English' };

export function LanguageSwitch({ size = 'middle' }: { size?: 'small' | 'middle' }) {
  const t = useT();
  const lang = useLang();
  return (
    <Segmented<Lang>
      aria-label={t('language')}
      data-testid="language-switch"
      size={size}
      value={lang}
      options={LANGS.map((value) => ({ value, label: LANG_NAMES[value] }))}
      onChange={setLang}
    />
  );
}
