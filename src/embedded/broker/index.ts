/**
 * The embedded single-node broker: speaks the Kafka wire protocol well enough for kafkajs and
 * librdkafka (producers, consumer groups, admin), stores partitions as segment files under a data
 * directory. Used by integration tests and `tandem dev`; production uses Apache Kafka.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { setMaxListeners } from 'node:events';
import { createLogger } from '../../observability/logger.js';
import { TandemError } from '../../errors.js';
import { Connection } from './connection.js';
import type { BrokerContext } from './context.js';
import { GroupCoordinator } from './group/coordinator.js';
import { resolveBrokerOptions, type BrokerOptions } from './options.js';
import { lockDataDir } from './storage/data-dir-lock.js';
import { Durability } from './storage/durability.js';
import { OffsetStore } from './storage/offset-store.js';
import { TopicRegistry } from './topics.js';

export type { BrokerOptions, BrokerTestHooks, FsyncPolicy } from './options.js';

export interface RunningBroker {
  /** Bootstrap addresses, e.g. `['127.0.0.1:9092']`. */
  brokers: string[];
  /** Stops accepting, closes connections, flushes and closes every file. */
  stop(): Promise<void>;
}

export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const resolved = resolveBrokerOptions(options);
  const logger = options.logger ?? createLogger({ name: 'broker' });
  mkdirSync(resolved.dataDir, { recursive: true });
  const unlock = lockDataDir(resolved.dataDir);

  const durability = new Durability(resolved.fsync, resolved.fsyncIntervalMs, logger);
  let topics: TopicRegistry;
  let offsets: OffsetStore;
  try {
    topics = new TopicRegistry(resolved, durability, logger);
    offsets = new OffsetStore(resolved.dataDir, durability);
  } catch (error) {
    unlock();
    throw error;
  }
  const coordinator = new GroupCoordinator(offsets, durability);
  const stopping = new AbortController();
  setMaxListeners(0, stopping.signal); // every parked fetch listens for the stop
  const advertised = { host: resolved.advertisedHost, port: resolved.port };
  const context: BrokerContext = { options: resolved, logger, topics, coordinator, durability, advertised, stopping: stopping.signal };

  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new Connection(socket, context);
  });
  try {
    await listen(server, resolved.port, resolved.host);
  } catch (error) {
    coordinator.close();
    topics.close();
    offsets.close();
    await durability.close();
    unlock();
    throw new TandemError(`The broker cannot listen on ${resolved.host}:${resolved.port}: ${(error as Error).message}.`, {
      fix: 'Pick another --port (0 chooses a free one) or stop the process that uses it.',
      cause: error,
    });
  }
  const address = server.address();
  if (address && typeof address === 'object') advertised.port = address.port;

  let stopped: Promise<void> | null = null;
  return {
    brokers: [`${advertised.host}:${advertised.port}`],
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
        coordinator.close();
        await durability.close();
        topics.close();
        offsets.close();
        unlock();
      })();
      return stopped;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
