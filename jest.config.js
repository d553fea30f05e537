/** Unit specs live beside the code; integration and e2e specs under test/ use real Redis. */
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  // Uses REDIS_URL (default 127.0.0.1:6379), or starts a private redis-server when nothing answers.
  globalSetup: '<rootDir>/test/support/redis.global-setup.ts',
  globalTeardown: '<rootDir>/test/support/redis.global-teardown.ts',
  transform,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/src'],
      testMatch: ['**/*.spec.ts'],
      transform,
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.spec.ts'],
      transform,
    },
  ],
};
