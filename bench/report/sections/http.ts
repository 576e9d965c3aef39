import { batchTable, type Doc, table } from '../markdown.js';
import type { Results } from '../results.js';
import { HTTP_LABEL, httpSummary, ms, ratio, TRACED_OF } from '../summaries.js';
import { fmt } from '../svg.js';

type HttpSummary = ReturnType<typeof httpSummary>[number];

/** 6. Purchases over HTTP: podium's box office against a bare NestJS endpoint. */
export function renderHttp(doc: Doc, results: Results): void {
  const plan = results.meta.plan;
  const http = httpSummary(results);
  if (!http.length) return;
  const bare = http.find((h) => h.system === 'bare');
  doc.paragraph('## 6. Purchases over HTTP');
  doc.paragraph(
    `The purchase as users make it: \`POST /purchases\` from ${plan.http.connections} autocannon connections (in the bench process), each sending its next purchase as soon as the last is answered, for ${plan.http.seconds} s ` +
      `after ${plan.http.warmup.toLocaleString('en-US')} warm-up purchases; a few bodies varying event and customer, one ticket each. ` +
      "The HTTP server runs as its own process beside the listeners process, with podium's Node flags: **podium's box office** (`dist/apps/box-office/src/main.js`, `PURCHASE_RATE_LIMIT=0`, the seed's events created through `POST /events` as an operator) " +
      "in front of podium's ephemeral or durable listeners, or the **bare NestJS endpoint** (`bench/baselines/bare-purchase-app.ts`: one controller that writes the order hash and publishes its id on both channels in one MULTI, nothing else) in front of podium's ephemeral listeners. " +
      `Purchases/s counts 2xx answers; latency is autocannon's response time of the 2xx answers. CPU is per purchase recorded, from the start of the load until every effect was applied. Median of ${plan.reps.http} run(s). ` +
      'Afterwards the server is stopped (it finishes what it took), the orders are read back from Redis (the 201s, and the few in flight when autocannon stopped) and the metric keys checked against them like every other run.',
  );
  doc.paragraph(httpTable(http, bare, plan.http.drainS));
  const ratios = ['ephemeral', 'durable']
    .map((m) => http.find((h) => h.system === m))
    .filter((h) => h !== undefined)
    .map((h) => `${h.system} ${ratio(h.rate, bare?.rate)}`);
  if (bare && ratios.length)
    doc.paragraph(
      `Box office ÷ bare endpoint, purchases/s: ${ratios.join(', ')}. ` +
        '"201s / recorded": the recorded orders the 201 answers name, and all the load recorded; the difference was in flight when autocannon stopped (at most one per connection), and is applied and checked like the rest.',
    );
  const traced = Object.entries(TRACED_OF).flatMap(([id, plain]) => {
    const t = http.find((h) => h.system === id);
    const p = http.find((h) => h.system === plain);
    return t && p
      ? [
          `${plain} ${ratio(t.rate, p.rate)} (p50 ${ms(p.p50)} → ${ms(t.p50)} ms; CPU per purchase: box office ${fmt(p.serverCpuMs)} → ${fmt(t.serverCpuMs)} ms, listeners ${fmt(p.listenersCpuMs)} → ${fmt(t.listenersCpuMs)} ms, redis-server ${fmt(p.redisCpuMs)} → ${fmt(t.redisCpuMs)} ms)`,
        ]
      : [];
  });
  if (traced.length)
    doc.paragraph(
      'Tracing at 100% sampling ("traced": both processes export every span over OTLP/HTTP, protobuf, to a receiver in the bench that keeps nothing), traced ÷ untraced purchases/s: ' +
        `${traced.join('; ')}.`,
    );
  const batches = batchTable(
    http.map((h) => ({
      label: HTTP_LABEL[h.system] ?? h.system,
      batches: h.mid.batches,
      durableGroups: h.mid.durableGroups,
    })),
  );
  if (batches) {
    doc.paragraph(
      'Batch sizes reached (median run, the measured load): in the listeners process, and per job the box office queued (its own `/metrics`, read before it stops).',
    );
    doc.paragraph(batches);
  }
  doc.chart('http.svg', 'purchases over HTTP');
}

/** One row per server and listeners: throughput, latency, CPU per purchase, memory, losses. */
function httpTable(
  http: HttpSummary[],
  bare: HttpSummary | undefined,
  drainS: number,
): string {
  return table(
    [
      'system',
      'purchases/s',
      '× bare',
      'each run',
      'p50 ms',
      'p99 ms',
      'non-2xx',
      'errors',
      'HTTP server CPU ms/purchase',
      'server busy',
      'listeners CPU ms/purchase',
      'redis CPU ms/purchase',
      'autocannon CPU ms/purchase',
      'server peak RSS MB',
      'listeners peak RSS MB',
      '201s / recorded',
      'all applied',
      'lost',
      'double',
    ],
    http.map((h) => [
      HTTP_LABEL[h.system] ?? h.system,
      fmt(h.rate),
      h.system === 'bare' ? '1×' : ratio(h.rate, bare?.rate),
      h.runs.map((r) => fmt(r.purchasesPerSecond)).join(', '),
      ms(h.p50),
      ms(h.p99),
      Math.max(...h.runs.map((r) => r.non2xx)),
      Math.max(...h.runs.map((r) => r.errors)),
      fmt(h.serverCpuMs),
      `${fmt(h.serverBusy * 100)}%`,
      fmt(h.listenersCpuMs),
      fmt(h.redisCpuMs),
      fmt(h.clientCpuMs),
      fmt(h.mid.serverPeakRssMb),
      fmt(h.mid.peakRssMb),
      `${fmt(h.mid.ok)} / ${fmt(h.mid.recorded)}`,
      h.runs.every((r) => r.complete) ? 'yes' : `no (within ${drainS} s)`,
      Math.max(...h.runs.map((r) => r.verification.lost)),
      Math.max(...h.runs.map((r) => r.verification.double)),
    ]),
  );
}
