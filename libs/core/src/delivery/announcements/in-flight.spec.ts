import { InFlight } from './in-flight.js';

describe('InFlight', () => {
  it('stops reading at the cap and reads again once half of the work is done', async () => {
    const flow: string[] = [];
    const inFlight = new InFlight(4, {
      pause: () => flow.push('pause'),
      resume: () => flow.push('resume'),
    });
    const done: (() => void)[] = [];
    for (let i = 0; i < 4; i++) {
      inFlight.reserve();
      inFlight.track(new Promise<void>((resolve) => done.push(resolve)));
    }
    expect(flow).toEqual(['pause']);
    done[0]();
    await new Promise((resolve) => setImmediate(resolve)); // the settled work is released
    expect(inFlight.size).toBe(3);
    expect(flow).toEqual(['pause']);
    done[1]();
    const draining = inFlight.drain();
    done[2]();
    done[3]();
    await draining;
    expect(inFlight.size).toBe(0);
    expect(flow).toEqual(['pause', 'resume']);
  });
});
