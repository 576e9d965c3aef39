import { Redis } from 'ioredis';
import { ClusterTopology, waitFor } from '@podium/testing';
import {
  ClusterNodeConnector,
  type ClusterNodeConnectorOptions,
} from './cluster-node-connector.js';

describe('ClusterNodeConnector', () => {
  let cluster: ClusterTopology;

  beforeAll(async () => {
    cluster = await ClusterTopology.start({
      primaries: 3,
      replicasPerPrimary: 1,
    });
  });
  afterAll(() => cluster?.destroy());

  it("keeps a subscriber on one node, hearing every node's PUBLISH, and moves it to the next node when its node dies", async () => {
    const heard: string[] = [];
    const options: ClusterNodeConnectorOptions = {
      Connector: ClusterNodeConnector,
      clusterNodes: cluster.seeds,
      retryStrategy: () => 50,
      maxRetriesPerRequest: null,
    };
    const subscriber = new Redis(options);
    subscriber.on('error', () => undefined);
    subscriber.on(
      'pmessage',
      (_pattern: string, _channel: string, message: string) =>
        heard.push(message),
    );
    const publisher = cluster.client();
    try {
      await subscriber.psubscribe('purchase_orders*');
      // Published through every primary: each message reaches the subscriber's node.
      for (let i = 0; i < 30; i++)
        await publisher.publish(`purchase_orders:${i}`, `before-${i}`);
      await waitFor(() => heard.length === 30, {
        what: '30 messages before the kill',
      });

      const node = cluster.nodes.find(
        (n) => n.port === subscriber.stream.remotePort,
      );
      await node!.kill();
      await waitFor(() => subscriber.status === 'ready', {
        what: 'the subscriber on another node',
        timeoutMs: 10_000,
      });
      await cluster.waitForHealthy();
      expect(subscriber.stream.remotePort).not.toBe(node!.port);
      await subscriber.ping(); // subscribed again: its PSUBSCRIBE went before this
      for (let i = 0; i < 30; i++)
        await publisher.publish(`purchase_orders:${i}`, `after-${i}`);
      await waitFor(
        () => heard.filter((m) => m.startsWith('after-')).length === 30,
        { what: '30 messages after the kill' },
      );
    } finally {
      subscriber.disconnect();
    }
  });
});
