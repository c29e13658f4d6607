// The web app's build. Vite 8 transforms .tsx with its built-in oxc transform (no React plugin),
// so there is no fast refresh in dev: a change reloads the page.
import { defineConfig } from 'vite';

// Libraries in long-lived chunks of their own, so that a change to the app does not invalidate
// them in the browser cache. echarts is only reached through dynamic imports and so stays out of
// the first load.
const vendorChunks = [
  { name: 'react', test: /[\\/]node_modules[\\/](react|react-dom|scheduler)[\\/]/, priority: 30 },
  { name: 'echarts', test: /[\\/]node_modules[\\/](echarts|zrender)[\\/]/, priority: 20 },
  {
    name: 'antd',
    test: /[\\/]node_modules[\\/](antd|@ant-design|@rc-component|rc-[^\\/]+)[\\/]/,
    priority: 10,
  },
  { name: 'vendor', test: /[\\/]node_modules[\\/]/, priority: 0 },
];

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // antd's chunk is large by nature; it is cached across releases.
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      output: { codeSplitting: { groups: vendorChunks } },
      // antd marks its modules "use client" for React Server Components; meaningless in this SPA.
      onLog(level, log, handler) {
        if (log.code === 'MODULE_LEVEL_DIRECTIVE') return;
        handler(level, log);
      },
    },
  },
  server: {
    proxy: { '/api': 'http://localhost:3000' },
  },
});
