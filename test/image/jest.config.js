// npm run test:image: the image and docker-compose.yml, run with rootful podman. Not part of
// npm test: it needs root, the image built first (scripts/image/build.sh) and about a minute.
// .ci/run builds the image and runs it. The base configuration otherwise (ESM, ts-jest, the
// packages' sources); no global setup: nothing of the repository is compiled or run outside
// the image.
import base from '../../jest.config.js';

const { globalSetup: _compilesTheApps, ...rest } = base;

/** @type {import('jest').Config} */
export default {
  ...rest,
  rootDir: '../..',
  testRegex: ['test/image/.*\\.e2e-spec\\.ts$'],
  testPathIgnorePatterns: ['/node_modules/'],
  // One at a time: each starts containers, and the machine has 2 cores.
  maxWorkers: 1,
  testTimeout: 180_000,
};
