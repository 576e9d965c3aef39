import { Command, type Cluster } from 'ioredis';
import { keySlot } from './cluster-slots.js';

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
 *
 * The same MOVED makes ioredis move that one slot to the new node in its map until the
 * next refresh: a pipeline queued meanwhile with keys of that slot and of others of the old
 * node spans two nodes, and ioredis rejects all of it unsent ("All keys in the pipeline
 * should belong to the same slots allocation group", a purchase's 500). Such a pipeline's
 * commands are sent each alone instead (splitAcrossNodes).
 */
export function followPipelineRedirects(cluster: Cluster): void {
  splitAcrossNodes(cluster);
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

/** What splitAcrossNodes reaches into: a Pipeline's queue and promise, as ioredis 5.11 has them. */
interface PipelineInternals {
  _queue: Command[];
  replyPending: number;
  nodeifiedPromise?: boolean;
  promise: Promise<[Error | null, unknown][]>;
  exec(callback?: (err: Error | null, results?: unknown) => void): unknown;
}

/**
 * A pipeline whose keys' slots are no longer served by one node when it runs (see
 * followPipelineRedirects): its commands go each alone, each to its slot's node, and the
 * pipeline answers once all did, as if it had run whole.
 */
function splitAcrossNodes(cluster: Cluster): void {
  const pipeline = cluster.pipeline.bind(cluster);
  const groups = () =>
    (cluster as unknown as { _groupsBySlot: (number | undefined)[] })
      ._groupsBySlot;
  cluster.pipeline = (commands?: unknown[][]) => {
    const created = pipeline(commands);
    const internals = created as unknown as PipelineInternals;
    const exec = internals.exec.bind(created);
    internals.exec = (callback) => {
      const queue = internals._queue;
      if (!spansNodes(queue, groups())) return exec(callback);
      internals.nodeifiedPromise = true;
      if (callback)
        internals.promise.then(
          (results) => callback(null, results),
          (err: Error) => callback(err),
        );
      internals.replyPending = queue.length;
      for (const command of queue) void cluster.sendCommand(command);
      return internals.promise;
    };
    return created;
  };
}

/** Whether the commands' first keys are in slots of different nodes (ioredis' own test, on string keys). */
function spansNodes(
  queue: readonly Command[],
  groups: readonly (number | undefined)[],
): boolean {
  if (queue.some((command) => command.inTransaction)) return false;
  let group: number | undefined | null = null;
  for (const command of queue) {
    const [key] = command.getKeys();
    if (typeof key !== 'string') continue;
    const of = groups[keySlot(key)];
    if (group === null) group = of;
    else if (of !== group) return true;
  }
  return false;
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
