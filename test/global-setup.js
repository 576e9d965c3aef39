// The crash tests kill real listeners processes, so they run the compiled apps: build them
// once before the suite.
import { execSync } from 'node:child_process';

export default function globalSetup() {
  execSync('npm run build:apps --silent', { stdio: 'inherit' });
}
