// One ECharts chart. The library arrives with the first chart drawn (a dynamic import), so pages
// without charts never load it.
import { useEffect, useRef } from 'react';
import { loadECharts } from './groups.ts';

type Option = Record<string, unknown>;

export function Chart({ option, height = 280, label }: { option: Option; height?: number; label: string }) {
  const element = useRef<HTMLDivElement | null>(null);
  const chart = useRef<{
    setOption(o: Option, notMerge?: boolean): void;
    resize(): void;
    dispose(): void;
  } | null>(null);

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | null = null;
    void loadECharts().then((echarts) => {
      if (disposed || !element.current) return;
      const instance = echarts.init(element.current);
      chart.current = instance;
      instance.setOption(option, true);
      observer = new ResizeObserver(() => instance.resize());
      observer.observe(element.current);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
    // The instance is made once (the first option with it); later options go through the effect below.
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, true);
  }, [option]);

  return <div ref={element} role="img" aria-label={label} style={{ width: '100%', height }} />;
}
