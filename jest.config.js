// Tests are compiled by tsc into dist/ first (the project is ESM; execa 9 is ESM-only).
// Files run in a fixed order (test/sequencer.ts; KILN_TEST_SEED=N shuffles it); every file's temporary
// directories are removed after it (test/environment.ts).
const common = {
  testEnvironment: '<rootDir>/dist/test/environment.js',
  transform: {},
  rootDir: '.',
};
export default {
  testSequencer: '<rootDir>/dist/test/sequencer.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/dist/test/unit/**/*.test.js'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/dist/test/e2e/**/*.test.js'],
      setupFilesAfterEnv: ['<rootDir>/dist/test/e2e/setup.js'],
    },
  ],
};
