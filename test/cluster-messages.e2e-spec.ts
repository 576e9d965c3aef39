import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  AnnouncementTransport,
  defineMessageType,
  Keyspace,
  MessagePublisher,
  OnMessage,
  PodiumModule,
  type Effects,
} from '@podium/core';
import { keySlot, PlacedReads } from '@podium/redis';
import { ClusterTopology, waitFor } from '@podium/testing';

/*
 * Messages of an app's own on a Redis Cluster: a type placed by a key of its own (a gate's
 * hash, read by its admission in the record script) and a type placed by its record alone,
 * published through PodiumModule with REDIS_CLUSTER_NODES' option only, handled by a durable
 * and an ephemeral listener, each message applied once (the effects are split in parts,
 * which PlacedReads adds up).
 */

interface Scan {
  id: string;
  gate: string;
}
const SCAN = defineMessageType<Scan>()({
  name: 'scan',
  idField: 'id',
  recordKeyPrefix: 'scan:',
  toHash: ({ id, gate }) => ({ id, gate }),
  fromHash: (id, hash) => ({ id, gate: hash.gate }),
  channels: ({ gate }) => ['scans', `scans:${gate}`],
  // The admission reads the gate's hash: the record must share its slot.
  placedBy: ({ gate }) => `gates:${gate}`,
  admission: {
    lua: new URL('./support/admit-open-gate.lua', import.meta.url),
    keys: ({ gate }) => [`gates:${gate}`],
  },
});

interface Note {
  id: string;
  text: string;
}
const NOTE = defineMessageType<Note>()({
  name: 'note',
  idField: 'id',
  recordKeyPrefix: 'note:',
  toHash: ({ id, text }) => ({ id, text }),
  fromHash: (id, hash) => ({ id, text: hash.text }),
  channels: () => ['notes'],
});

@Injectable()
class Counters {
  @OnMessage(SCAN, {
    listener: 'scans-by-gate',
    pattern: 'scans:*',
    mode: 'durable',
  })
  scan(scan: Scan): Effects {
    return { writes: [['HINCRBY', 'scans_by_gate', scan.gate, 1]] };
  }

  @OnMessage(NOTE, { listener: 'notes', channel: 'notes', mode: 'ephemeral' })
  note(note: Note): Effects {
    return { writes: [['SADD', 'notes_seen', note.id]] };
  }
}

const GATES = ['north', 'south', 'east', 'west'];

describe('Redis Cluster: messages of an app of its own', () => {
  let cluster: ClusterTopology;
  let app: INestApplication;
  const closing: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    cluster = await ClusterTopology.start({
      primaries: 3,
      replicasPerPrimary: 0,
    });
    const module = await Test.createTestingModule({
      imports: [
        PodiumModule.forRoot({
          redis: {
            clusterNodes: cluster.nodes.map(({ port }) => `127.0.0.1:${port}`),
          },
        }),
      ],
      providers: [Counters],
    }).compile();
    app = module.createNestApplication({ logger: ['error', 'warn'] });
    app.connectMicroservice({ strategy: app.get(AnnouncementTransport) });
    await app.init();
    await app.startAllMicroservices();
    await app.get(AnnouncementTransport).whenSubscribed();
  }, 60_000);

  afterAll(async () => {
    for (const close of closing) await close();
    await app?.close();
    await cluster?.destroy();
  });

  it('places each record where its type says, admits in that slot, and applies every message once', async () => {
    const client = cluster.client();
    closing.push(() => client.quit());
    for (const gate of GATES) await client.hset(`gates:${gate}`, 'open', '5');
    const publisher = app.get(MessagePublisher);

    const scans = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        publisher.publish(SCAN, { gate: GATES[i % GATES.length] }),
      ),
    );
    const notes = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        publisher.publish(NOTE, { text: `note ${i}` }),
      ),
    );

    // 6 scans per gate for 5 places: one refused at each gate, nothing written for it.
    expect(scans.filter((r) => r.outcome === 'refused')).toHaveLength(4);
    const admitted = scans.flatMap((r) =>
      r.outcome === 'created' ? [r.message] : [],
    );
    for (const scan of admitted)
      expect(keySlot(SCAN.recordKey(scan.id))).toBe(
        keySlot(`gates:${scan.gate}`),
      );
    const noteIds = notes.flatMap((r) =>
      r.outcome === 'created' ? [r.message.id] : [],
    );
    expect(noteIds).toHaveLength(30);
    // Placed by their record alone, notes spread over the primaries.
    const primaries = await Promise.all(
      noteIds.map((id) => cluster.primaryOfKey(NOTE.recordKey(id))),
    );
    expect(new Set(primaries.map(({ port }) => port)).size).toBeGreaterThan(1);

    const reads = new PlacedReads(client, app.get(Keyspace));
    await waitFor(
      async () => {
        const byGate = await reads.hashSums('scans_by_gate');
        return GATES.every((gate) => byGate[gate] === 5);
      },
      { what: 'every admitted scan applied once', timeoutMs: 20_000 },
    );
    await waitFor(async () => (await reads.setSize('notes_seen')) === 30, {
      what: 'every note applied once',
      timeoutMs: 20_000,
    });
    expect(await reads.hashSums('scans_by_gate')).toEqual(
      Object.fromEntries(GATES.map((gate) => [gate, 5])),
    );
  }, 60_000);
});
