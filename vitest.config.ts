import { defineConfig } from 'vitest/config';

// One run over every workspace package, so CI gets one JSON report with every count.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'examples/*', 'bench', 'tests'],
  },
});
