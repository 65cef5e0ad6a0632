import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // CUDA tests run on GPU machines through scripts/gpu-check.sh (node --test over dist/).
    exclude: ['test/cuda/**', 'node_modules/**', 'dist/**'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Two cores here: more workers only fight over them (each loads libtorch).
    maxWorkers: 2,
  },
});
