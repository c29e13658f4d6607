// The interface language (zh-CN by default, English as the alternative) and the dictionaries.
// The shell's words live here; a page keeps its own words next to it with `defineMessages`, so a
// dictionary never grows into one file that every engineer edits at once.
import { useCallback, useSyncExternalStore } from 'react';

export type Lang = 'zh' | 'en';
export const LANGS: readonly Lang[] = ['zh', 'en'];

/** A text given in both languages, e.g. a menu label. */
export interface Localized {
  zh: string;
  en: string;
}

export interface Messages<K extends string> {
  zh: Record<K, string>;
  en: Record<K, string>;
}

export type Vars = Record<string, string | number>;
export type Translate<K extends string> = (key: K, vars?: Vars) => string;

const STORAGE_KEY = 'shouhu.lang';

function storedLang(): Lang {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh';
  } catch {
    return 'zh';
  }
}

let current: Lang = storedLang();
const listeners = new Set<() => void>();

export function currentLang(): Lang {
  return current;
}

export function setLang(lang: Lang): void {
  if (lang === current) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Private browsing may refuse storage; the choice then lasts for this page only.
  }
  document.documentElement.lang = htmlLang(lang);
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useLang(): Lang {
  return useSyncExternalStore(subscribe, currentLang);
}

export function htmlLang(lang: Lang): string {
  return lang === 'zh' ? 'zh-CN' : 'en';
}

/** The Accept-Language header the API answers to (it reads the first tag). */
export function acceptLanguage(lang: Lang): string {
  return lang === 'zh' ? 'zh-CN,zh;q=0.9,en;q=0.5' : 'en,zh-CN;q=0.5';
}

/** A dictionary whose English half must have exactly the keys of the Chinese half. */
export function defineMessages<K extends string>(zh: Record<K, string>, en: Record<K, string>): Messages<K> {
  return { zh, en };
}

function format(template: string, vars: Vars | undefined): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** Translation outside React (the API client's fallback messages). */
export function translate<K extends string>(
  messages: Messages<K>,
  key: K,
  vars?: Vars,
  lang = current,
): string {
  return format(messages[lang][key], vars);
}

export function pick(text: Localized, lang: Lang): string {
  return text[lang];
}

export const common = defineMessages(
  {
    productName: '守护',
    productTagline: '农村留守儿童和妇女、老年人关爱服务信息系统',
    openMenu: '打开菜单',
    collapseMenu: '收起菜单',
    expandMenu: '展开菜单',
    language: '界面语言',
    workingRegion: '当前区划',
    chooseRegion: '选择区划',
    loading: '加载中…',
    pageNotFound: '页面不存在',
    backHome: '返回首页',
    pageFailed: '页面加载失败',
    pageFailedHint: '系统可能已更新，请刷新页面后重试。',
    reload: '刷新页面',
    networkError: '无法连接服务器，请检查网络后重试',
    httpError: '服务器返回错误（HTTP {status}）',
    none: '无',
  },
  {
    productName: 'Shouhu',
    productTagline: 'Care services for rural left-behind children, women and elderly',
    openMenu: 'Open menu',
    collapseMenu: 'Collapse menu',
    expandMenu: 'Expand menu',
    language: 'Language',
    workingRegion: 'Working region',
    chooseRegion: 'Choose a region',
    loading: 'Loading…',
    pageNotFound: 'Page not found',
    backHome: 'Back to home',
    pageFailed: 'The page failed to load',
    pageFailedHint: 'Shouhu may have been updated. Reload the page and try again.',
    reload: 'Reload',
    networkError: 'Cannot reach the server. Check the network and try again.',
    httpError: 'The server answered with an error (HTTP {status})',
    none: 'None',
  },
);

export type CommonKey = keyof typeof common.zh;

/** `const t = useT()` for the shell's words, `useT(pageMessages)` for a page's own. */
export function useT(): Translate<CommonKey>;
export function useT<K extends string>(messages: Messages<K>): Translate<K>;
export function useT(messages: Messages<string> = common): Translate<string> {
  const lang = useLang();
  return useCallback(
    (key: string, vars?: Vars) => format(messages[lang][key] ?? key, vars),
    [messages, lang],
  );
}
