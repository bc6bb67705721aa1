/// <reference types="vitest" />
import { defineConfig, loadEnv } from 'vite';
import react from '@vitejs/plugin-react';

// VITE_PROXY_TARGET (env or .env.local): where `npm run dev` sends /api; default the gateway's
// usual http://localhost:8000. Read at dev-server start, never bundled.
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, process.cwd(), '');
  const target = process.env.VITE_PROXY_TARGET || env.VITE_PROXY_TARGET || 'http://localhost:8000';
  return {
    plugins: [react()],
    server: {
      port: 5173,
      strictPort: true,
      proxy: {
        '/api': {
          target,
          changeOrigin: true,
          // Server-Sent Events: no buffering by the proxy.
          configure: (proxy) => {
            proxy.on('proxyRes', (res) => {
              if (String(res.headers['content-type'] || '').startsWith('text/event-stream')) {
                res.headers['cache-control'] = 'no-cache';
              }
            });
          },
        },
      },
    },
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      sourcemap: false,
      reportCompressedSize: true,
      target: 'es2020',
    },
    test: {
      environment: 'jsdom',
      globals: false,
      include: ['src/**/*.test.{ts,tsx}'],
      setupFiles: ['src/test/setup.ts'],
      restoreMocks: true,
    },
  };
});
