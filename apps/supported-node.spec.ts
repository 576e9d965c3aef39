import { readFileSync } from 'node:fs';
import {
  SUPPORTED_NODE_MAJOR,
  unsupportedNodeMessage,
} from './supported-node.js';

const root = new URL('../', import.meta.url);

describe('the supported Node', () => {
  it('is the one package.json engines and .nvmrc name', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('package.json', root), 'utf8'),
    ) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${SUPPORTED_NODE_MAJOR}`);
    expect(readFileSync(new URL('.nvmrc', root), 'utf8').trim()).toBe(
      String(SUPPORTED_NODE_MAJOR),
    );
  });

  it('an older Node gets one line: which Node, and how to get it', () => {
    const message = unsupportedNodeMessage('20.20.2', 'listeners')!;
    expect(message).toBe(
      'podium needs Node 24 or newer, and this is Node 20.20.2: start it with `npm run start:listeners`, which runs the ' +
        "project's own Node 24 (installed by npm ci), or switch to Node 24 first (`nvm use` reads .nvmrc)",
    );
    expect(message).not.toContain('\n');
    expect(unsupportedNodeMessage('22.12.0', 'box-office')).toContain(
      'npm run start:box-office',
    );
  });

  it('Node 24 and later pass', () => {
    expect(unsupportedNodeMessage('24.0.0', 'listeners')).toBeUndefined();
    expect(unsupportedNodeMessage('26.1.0', 'listeners')).toBeUndefined();
  });
});
