// Mutation testing (StrykerJS 9.x: 10.x needs Node 22). Slow, so not in CI: `npm run mutation`
// mutates src/events, src/delivery and src/platform; MUTATE=src/delivery narrows it to one folder
// (a glob or a comma-separated list), which is how the figures in docs/TESTING.md were measured.
// Mutants are killed by the unit specs beside the code and by the integration specs that build
// one component against real Redis, HTTP or the simulator (FOCUSED_INTEGRATION below): both run
// in the Stryker process, so a mutant is live in them. Each mutant runs only the spec files that
// import its file (findRelatedTests) and, within them, only the tests that reached it (perTest
// coverage). Specs that boot the whole application (test/support/delivery-app) or spawn service
// processes are left out: every file is related to them, so each mutant would pay for all of them,
// and a spawned process never sees the active mutant. The specs that run the Opentact link
// against the simulator (test/integration/ingest, test/integration/platform) are left out for
// the same cost: they import the connection, so every platform and event-log mutant would load
// and run them (10-20 s each); src/platform is covered by unit specs with a fake socket.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const jestConfig = require('./jest.config.js');

const FOCUSED_INTEGRATION = [
  'delivery-limits/subscription-limiter',
  'delivery-records/delivery-lanes',
  'delivery-records/delivery-record-repository',
  'delivery-sender/webhook-http-client',
  'events/event-log',
  'events/quarantine-repository',
];

// The compiled validator's spec compares it with class-validator over 20,000 random inputs per
// DTO (8 s); every surviving mutant would pay that. 2,000 in mutation runs (the workers inherit
// this process's environment): a weaker check, so the score can only be lower for it.
process.env.SPEC_FUZZ_INPUTS ??= '2000';

const FOLDERS = ['src/events', 'src/delivery', 'src/platform'];
const selected = (process.env.MUTATE ?? FOLDERS.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');
// One report per run, so per-folder runs do not overwrite each other.
const report = process.env.MUTATION_REPORT ?? 'mutation';
const mutate = selected.flatMap((s) =>
  /\.ts(:\d+-\d+)?$/.test(s)
    ? [s]
    : [`${s}/**/*.ts`, `!${s}/**/*.spec.ts`, `!${s}/**/*.spec-fixture.ts`],
);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    enableFindRelatedTests: true,
    // One flat project: Stryker wraps the top-level test environment to see which test reaches
    // which mutant, and a project inside `projects` would not get that wrapper.
    config: {
      testTimeout: jestConfig.testTimeout,
      globalSetup: jestConfig.globalSetup,
      globalTeardown: jestConfig.globalTeardown,
      transform: jestConfig.transform,
      // Node's environment, recording in the dry run which spec file holds which test, and a
      // sequencer that runs a mutant only through the files holding the tests that reached it
      // (scripts/mutation). MUTATION_TEST_INDEX=off runs every related file, as Stryker would.
      ...(process.env.MUTATION_TEST_INDEX === 'off'
        ? { testEnvironment: 'node' }
        : {
            testEnvironment: './scripts/mutation/test-index.environment.cjs',
            testSequencer: '<rootDir>/scripts/mutation/test-index.sequencer.cjs',
          }),
      rootDir: '.',
      roots: ['<rootDir>/src', '<rootDir>/test/integration'],
      testMatch: [
        '<rootDir>/src/**/*.spec.ts',
        ...FOCUSED_INTEGRATION.map((name) => `<rootDir>/test/integration/${name}.spec.ts`),
      ],
    },
  },
  mutate,
  coverageAnalysis: 'perTest',
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  // A jest run inside a long-lived worker keeps part of each run's module registry: after a few
  // hundred mutants a worker held 3.8 GB and spent its time collecting garbage (9 mutants a
  // minute instead of 30). A fresh worker every 40 runs costs a few seconds each time.
  maxTestRunnerReuse: Number(process.env.MUTATION_RUNNER_REUSE ?? 40),
  timeoutMS: Number(process.env.MUTATION_TIMEOUT_MS ?? 10_000),
  // Static mutants (module-level constants) would rerun every spec per mutant.
  ignoreStatic: true,
  // event-recorder leaves one file per tested mutant as the run goes, so a run stopped early
  // still has figures: npm run -s mutation:summary -- reports/mutation/<report>-events
  reporters: ['clear-text', 'progress', 'json', 'html', 'event-recorder'],
  eventReporter: { baseDir: `reports/mutation/${report}-events` },
  jsonReporter: { fileName: `reports/mutation/${report}.json` },
  htmlReporter: { fileName: `reports/mutation/${report}.html` },
  // A second run beside a first needs its own directory (MUTATION_TEMP_DIR=.stryker-tmp-2), and
  // neither copies the other's sandbox.
  tempDirName: process.env.MUTATION_TEMP_DIR ?? '.stryker-tmp',
  ignorePatterns: ['/.stryker-tmp*'],
  cleanTempDir: 'always',
};
