import { Command, type Cluster } from 'ioredis';

/** Replies by which a cluster node refuses a command without running it. */
const REFUSED = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /;

/** What this file reaches into: Cluster#sendCommand with a pipeline's stream and node. */
type SendCommand = (
  command: Command,
  stream?: { isPipeline?: boolean },
  node?: unknown,
) => unknown;

/**
 * Makes a Cluster client follow redirections for the commands it pipelines, as it does for
 * a command sent alone.
 *
 * ioredis 5.11 re-sends a pipeline refused with MOVED/ASK only when every one of its
 * commands got the same reply (ioredis issue #2075). An auto-pipeline holds the commands of
 * every slot a node serves; after a failover the node answers "MOVED <slot> <new node>"
 * with each command's own slot, the replies differ, and each command fails with its MOVED
 * (measured: purchases answered 500 after a planned CLUSTER FAILOVER, the record script's
 * EVALSHA among them). A refused command did not run: each is re-sent alone, on the path
 * that follows MOVED and ASK, waits out TRYAGAIN and CLUSTERDOWN, and refreshes the slots.
 * The pipeline then sees its answer. Commands of a MULTI are left alone: re-sent alone
 * they would run outside their transaction.
 *
 * The refused command's own timers keep running: a fail-fast connection's deadline
 * (commandTimeout) still counts from the first send.
 */
export function followPipelineRedirects(cluster: Cluster): void {
  const send = (cluster.sendCommand as SendCommand).bind(cluster);
  (cluster as unknown as { sendCommand: SendCommand }).sendCommand = (
    command,
    stream,
    node,
  ) => {
    if (node && stream?.isPipeline && !command.inTransaction) {
      const reject = command.reject;
      command.reject = (err: Error) => {
        if (!REFUSED.test(err?.message ?? '')) return reject.call(command, err);
        const alone = resendable(command);
        send(alone);
        alone.promise.then(
          (reply) => command.resolve(reply),
          (again: Error) => reject.call(command, again),
        );
      };
    }
    return send(command, stream, node);
  };
}

/** A copy of a command to send again: its arguments as sent, its reply left raw for the original to convert. */
function resendable(command: Command): Command {
  const alone = new Command(command.name, []);
  // Set after construction: the arguments were already transformed and stringified.
  alone.args = command.args;
  alone.isReadOnly = command.isReadOnly;
  alone.transformReply = (reply) => reply;
  return alone;
}

/** How often a Cluster client asks the nodes for the slots' owners, MOVED or not. */
export const SLOTS_REFRESH_MS = 1000;

/**
 * Asks the nodes for the slots' owners every `intervalMs` while the client is ready: after a
 * failover the client learns the new primaries within that time even if no command of a
 * moved slot came back MOVED yet (a connection to a killed node only times out), and the
 * FailoverMonitor, which reads the client's slots on each refresh, logs the move promptly.
 * The timer is unref'd (ioredis' slotsRefreshInterval is not: it would keep a process
 * alive) and stops when the client ends.
 */
export function refreshSlotsEvery(
  cluster: Cluster,
  intervalMs = SLOTS_REFRESH_MS,
): void {
  const timer = setInterval(() => {
    if (cluster.status === 'ready') cluster.refreshSlotsCache();
  }, intervalMs).unref();
  cluster.once('end', () => clearInterval(timer));
}
