// Tests are compiled by tsc into dist/ first (the project is ESM; execa 9 is ESM-only).
const common = { testEnvironment: 'node', transform: {}, rootDir: '.' };
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/dist/test/unit/**/*.test.js'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/dist/test/e2e/**/*.test.js'] },
  ],
};
