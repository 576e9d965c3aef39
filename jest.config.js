// Jest runs the TypeScript sources as ES modules (Nest 12 ships ESM only), so the
// test script sets NODE_OPTIONS=--experimental-vm-modules.
/** @type {import('jest').Config} */
export default {
  rootDir: '.',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  testRegex: [
    'libs/.*\\.spec\\.ts$',
    'apps/.*\\.spec\\.ts$',
    'examples/.*\\.spec\\.ts$',
    'test/.*\\.e2e-spec\\.ts$',
  ],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  // The podium packages resolve to their TypeScript sources, as in the editor (tsconfig.json's
  // customConditions): the tests run what is in libs/, not a build of it.
  testEnvironmentOptions: {
    customExportConditions: ['podium-source', 'node', 'node-addons'],
  },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  // examples/own-app is a project of its own, tested on the packed packages (npm run test:example);
  // test/image runs the built image with podman, as root (npm run test:image).
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/examples/own-app/',
    '<rootDir>/test/image/',
  ],
  globalSetup: '<rootDir>/test/global-setup.js',
  setupFiles: ['<rootDir>/test/preload-nest.js'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
