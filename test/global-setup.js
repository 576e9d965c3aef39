// The crash tests kill real listeners processes, so they run the compiled apps: build them
// once before the suite. The same build type-checks the README's code (examples/).
import { execSync } from 'node:child_process';

export default function globalSetup() {
  execSync('npm run build:apps --silent', { stdio: 'inherit' });
}
