// Jest runs the TypeScript sources as ES modules (Nest 12 ships ESM only): the test script
// sets NODE_OPTIONS=--experimental-vm-modules.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  testRegex: 'src/.*\\.spec\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 30_000,
  // Jest does not exit after this suite although the app and the redis-server are closed and
  // process.getActiveResourcesInfo() names nothing but one timer not yet traced (the monorepo's
  // own specs of the same module exit); until it is found, jest exits when the tests are done.
  forceExit: true,
};
