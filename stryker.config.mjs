// Mutation testing (StrykerJS 9.x: 10.x needs Node 22). Slow, so not in CI: `npm run mutation`
// mutates src/events, src/delivery and src/platform; MUTATE=src/delivery narrows it to one folder
// (a glob or a comma-separated list), which is how the figures in docs/TESTING.md were measured.
// Mutants are killed by the unit specs beside the code: they run in the Stryker process, so a
// mutant is live in them, and perTest coverage runs only the specs that reach it.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const jestConfig = require('./jest.config.js');
const unit = jestConfig.projects.find((p) => p.displayName === 'unit');

const FOLDERS = ['src/events', 'src/delivery', 'src/platform'];
const selected = (process.env.MUTATE ?? FOLDERS.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');
// One report per run, so per-folder runs do not overwrite each other.
const report = process.env.MUTATION_REPORT ?? 'mutation';
const mutate = selected.flatMap((s) =>
  s.endsWith('.ts') ? [s] : [`${s}/**/*.ts`, `!${s}/**/*.spec.ts`],
);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    enableFindRelatedTests: false,
    config: { ...jestConfig, projects: [{ ...unit, rootDir: '.' }] },
  },
  mutate,
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  timeoutMS: Number(process.env.MUTATION_TIMEOUT_MS ?? 10_000),
  // Static mutants (module-level constants) would rerun every spec per mutant.
  ignoreStatic: true,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${report}.json` },
  htmlReporter: { fileName: `reports/mutation/${report}.html` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
