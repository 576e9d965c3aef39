import type { Doc } from '../markdown.js';
import type { Results } from '../results.js';

/** The title, the machine and the load it ran on, and what the systems are. */
export function renderHeader(doc: Doc, results: Results): void {
  const { meta } = results;
  const plan = meta.plan;
  doc.paragraph(
    `# podium bench report${plan.name === 'quick' ? ' (quick run)' : ''}`,
  );
  doc.paragraph(
    `Run ${meta.startedAt} in ${Math.floor(meta.durationS / 60)} min ${meta.durationS % 60} s: ${meta.machine.cpus} cores (${meta.machine.cpuModel}), ` +
      `${meta.machine.memoryGiB} GiB, Node ${meta.machine.node}, Redis ${meta.machine.redis} (a private redis-server), commit ${meta.machine.commit}. ` +
      `Load average at start ${meta.loadAverageAtStart.join(' ')}${meta.loadAverageAtEnd ? `, at end ${meta.loadAverageAtEnd.join(' ')}` : ''}.`,
  );
  if (plan.name === 'quick')
    doc.paragraph(
      '> **Quick run**: short streams and one run per measurement. The figures show that everything works and roughly where each system stands; quote the full run (`npm run bench`).',
    );
  doc.paragraph(
    "Systems: **(a)** the seed's listen loops on raw ioredis, **(b)** the same handlers on a plain Nest Redis-transport microservice, " +
      '**(c)** the durable layer a NestJS user would write by hand (a BullMQ queue per listener, the same handlers, no idempotency), ' +
      "**(d)** Redis Streams read in batches by a consumer group per listener, each batch's effects and acknowledgements in one MULTI (exactly once), " +
      "and podium's listeners process in each delivery mode. " +
      "Every system gets the same orders, recorded by podium's `OrderPublisher.record` in the bench process (for (c) the bench then adds the jobs, for (d) the stream entry), and runs as its own OS process. " +
      'Each podium figure is also given as a ratio to (a) (for throughput higher is better; for latency, memory and losses lower is better). How everything is measured: [bench/README.md](../README.md).',
  );
}
