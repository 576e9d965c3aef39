// No imports: the apps' entry points load this before anything else, on whatever Node.

/** The oldest Node podium runs on; package.json's engines and .nvmrc say the same (tested). */
export const SUPPORTED_NODE_MAJOR = 24;

/** The one line that says why this Node cannot run the app, or undefined when it can. */
export function unsupportedNodeMessage(
  version: string,
  app: string,
): string | undefined {
  if (Number(version.split('.')[0]) >= SUPPORTED_NODE_MAJOR) return undefined;
  return (
    `podium needs Node ${SUPPORTED_NODE_MAJOR} or newer, and this is Node ${version}: ` +
    `start it with \`npm run start:${app}\`, which runs the project's own Node ${SUPPORTED_NODE_MAJOR} (installed by npm ci), ` +
    `or switch to Node ${SUPPORTED_NODE_MAJOR} first (\`nvm use\` reads .nvmrc)`
  );
}

/** Exits with that line (code 1) on an older Node. */
export function requireSupportedNode(app: string): void {
  const message = unsupportedNodeMessage(process.versions.node, app);
  if (message === undefined) return;
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
