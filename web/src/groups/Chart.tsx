// One ECharts chart. The library arrives with the first chart drawn (a dynamic import), so pages
// without charts never load it. A canvas says nothing to a screen reader: ECharts' aria component
// writes what the chart shows (its series and their values) into the element's aria-label.
import { useEffect, useRef } from 'react';
import { useLang, type Lang } from '../i18n.ts';
import { loadECharts } from './groups.ts';

type Option = Record<string, unknown>;

/** ECharts describes a missing point (a count suppressed as "<5") as NaN; a listener hears "no data". */
function describeGaps(element: HTMLElement, lang: Lang): void {
  const text = element.getAttribute('aria-label');
  if (text?.includes('NaN'))
    element.setAttribute('aria-label', text.replace(/\bNaN\b/g, lang === 'zh' ? '无数据' : 'no data'));
}

export function Chart({ option, height = 280, label }: { option: Option; height?: number; label: string }) {
  const lang = useLang();
  const element = useRef<HTMLDivElement | null>(null);
  const chart = useRef<{
    setOption(o: Option, notMerge?: boolean): void;
    resize(): void;
    dispose(): void;
  } | null>(null);
  // The data usually arrives before the library: the chart is then made with the latest option,
  // not the empty one of the first render.
  const latest = useRef<Option>(option);

  useEffect(() => {
    latest.current = { ...option, title: { text: label, show: false }, aria: { enabled: true } };
    chart.current?.setOption(latest.current, true);
  }, [option, label]);

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | null = null;
    let describer: MutationObserver | null = null;
    void loadECharts().then((echarts) => {
      if (disposed || !element.current) return;
      // The locale words the aria-label (and the library's own texts) in the interface language.
      const instance = echarts.init(element.current, undefined, { locale: lang === 'zh' ? 'ZH' : 'EN' });
      chart.current = instance;
      // Set before the first description is written, and again at every later one.
      const target = element.current;
      describer = new MutationObserver(() => describeGaps(target, lang));
      describer.observe(target, { attributes: true, attributeFilter: ['aria-label'] });
      instance.setOption(latest.current, true);
      observer = new ResizeObserver(() => instance.resize());
      observer.observe(target);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      describer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, [lang]);

  return <div ref={element} role="img" aria-label={label} style={{ width: '100%', height }} />;
}
