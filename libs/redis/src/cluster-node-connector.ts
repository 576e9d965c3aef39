import { createConnection, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { AbstractConnector, type RedisOptions } from 'ioredis';

export interface ClusterNodeConnectorOptions extends RedisOptions {
  /** The cluster's nodes to try, in turn. */
  clusterNodes: readonly { host: string; port: number }[];
}

/**
 * Connects one plain connection to one node of a Redis Cluster, the next node each time it
 * connects again. For subscribers: classic PUBLISH reaches the subscribers of every node,
 * primaries and replicas alike, so a subscriber needs one node, any one, and when that node
 * goes away the connection moves on to the next (ioredis subscribes again by itself). A
 * plain connection keeps what podium's subscriber relies on and ioredis' Cluster client
 * keeps to itself: its socket (to stop reading) and a PING on the subscribed connection.
 */
export class ClusterNodeConnector extends AbstractConnector {
  private next = 0;
  private readonly options: ClusterNodeConnectorOptions;

  /** ioredis hands a connector the connection's options, clusterNodes among them. */
  constructor(options: unknown) {
    const given = options as ClusterNodeConnectorOptions;
    super(given.disconnectTimeout ?? 2000);
    this.options = given;
  }

  /** The node the next connect() goes to, and the one after. */
  get nextNode(): { host: string; port: number } {
    const { clusterNodes } = this.options;
    return clusterNodes[this.next % clusterNodes.length];
  }

  connect(): Promise<Socket | TLSSocket> {
    const node = this.nextNode;
    this.next++;
    this.connecting = true;
    return new Promise((resolve, reject) => {
      // As ioredis' own connector: the socket is made on the next tick, after a disconnect()
      // of this tick could still call the attempt off.
      process.nextTick(() => {
        if (!this.connecting) return reject(new Error('Connection is closed.'));
        try {
          const stream = this.options.tls
            ? connectTls({
                ...this.options.tls,
                host: node.host,
                port: node.port,
              })
            : createConnection({ host: node.host, port: node.port });
          stream.once('error', (err: Error) => {
            this.firstError = err;
          });
          this.stream = stream;
          resolve(stream);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }
}
