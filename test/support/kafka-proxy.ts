import { createServer, connect, type Server, type Socket } from 'node:net';
import { ApiKey, SUPPORTED_APIS, decodeResponse, encodeResponse, isVersionSupported } from '../../src/embedded/broker/protocol/index.js';

/**
 * Faults a test injects between Kafka clients and any broker (ours or Apache Kafka), so that
 * "a slow broker" or "a lost response" means the same on both. Change them while the proxy runs.
 */
export interface KafkaFaults {
  /**
   * Return true to close the client's connection instead of passing this response on: the broker
   * has processed the request, the client never hears so (it retries on a new connection).
   */
  dropResponse?: (apiKey: number) => boolean;
  /** Milliseconds to hold this response back; later responses on the connection wait behind it. */
  delayResponseMs?: (apiKey: number) => number;
  /** A promise to hold this response back until it settles (a broker that stalls until the test says so). */
  holdResponse?: (apiKey: number) => Promise<void> | undefined;
}

export interface KafkaFaultProxy {
  /** Bootstrap addresses for clients: the proxy's listeners. */
  brokers: string[];
  faults: KafkaFaults;
  /** How many responses of each API key the proxy has seen from the broker (dropped ones too). */
  responses: Map<number, number>;
  stop(): Promise<void>;
}

interface Listener {
  server: Server;
  address: { host: string; port: number };
}

/**
 * A TCP proxy in front of a Kafka cluster that speaks just enough of the protocol to stay in the
 * path: it rewrites the broker addresses in Metadata and FindCoordinator answers to its own
 * listeners (one per broker) and caps those two APIs, in ApiVersions answers, to the versions our
 * codec decodes. Every other byte passes unchanged, except for the faults the test injects.
 */
export async function startKafkaFaultProxy(upstream: string[], faults: KafkaFaults = {}): Promise<KafkaFaultProxy> {
  const listeners = new Map<string, Promise<Listener>>();
  const sockets = new Set<Socket>();
  const responses = new Map<number, number>();

  const listenerFor = (host: string, port: number): Promise<Listener> => {
    const key = `${host}:${port}`;
    let listener = listeners.get(key);
    if (!listener) {
      listener = new Promise<Listener>((resolve, reject) => {
        const server = createServer((client) => proxyConnection(client, host, port));
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const address = server.address() as { port: number };
          resolve({ server, address: { host: '127.0.0.1', port: address.port } });
        });
      });
      listeners.set(key, listener);
    }
    return listener;
  };

  const proxyConnection = (client: Socket, host: string, port: number) => {
    const broker = connect(port, host);
    sockets.add(client);
    sockets.add(broker);
    const close = () => {
      client.destroy();
      broker.destroy();
      sockets.delete(client);
      sockets.delete(broker);
    };
    client.on('error', close).on('close', close);
    broker.on('error', close).on('close', close);

    // Requests pass as they come; their headers are noted to know what each response answers.
    const requests = new Map<number, { apiKey: number; apiVersion: number }>();
    const requestFrames = frameReader((frame) => {
      requests.set(frame.readInt32BE(4), { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2) });
    });
    client.on('data', (chunk: Buffer) => {
      requestFrames(chunk);
      broker.write(chunk);
    });

    let queue = Promise.resolve();
    const responseFrames = frameReader((frame) => {
      const correlationId = frame.readInt32BE(0);
      const request = requests.get(correlationId);
      requests.delete(correlationId);
      queue = queue.then(async () => {
        if (client.destroyed) return;
        if (!request) return void client.write(withSize(frame));
        responses.set(request.apiKey, (responses.get(request.apiKey) ?? 0) + 1);
        if (faults.dropResponse?.(request.apiKey)) return close();
        const delay = faults.delayResponseMs?.(request.apiKey) ?? 0;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        await faults.holdResponse?.(request.apiKey);
        const bytes = await rewrite(request.apiKey, request.apiVersion, frame, listenerFor);
        if (!client.destroyed) client.write(bytes);
      }).catch((error: unknown) => {
        client.destroy(error as Error);
        close();
      });
    });
    broker.on('data', responseFrames);
  };

  const bootstrap = await Promise.all(
    upstream.map(async (address) => {
      const [host, port] = splitAddress(address);
      const listener = await listenerFor(host, port);
      return `${listener.address.host}:${listener.address.port}`;
    }),
  );
  return {
    brokers: bootstrap,
    faults,
    responses,
    async stop() {
      for (const socket of sockets) socket.destroy();
      const all = await Promise.all(listeners.values());
      await Promise.all(all.map((listener) => new Promise<void>((resolve) => listener.server.close(() => resolve()))));
    },
  };
}

/** Calls `onFrame` with each complete frame (without its int32 size prefix) of a byte stream. */
function frameReader(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) break;
      onFrame(pending.subarray(4, 4 + size));
      pending = pending.subarray(4 + size);
    }
  };
}

function withSize(frame: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(frame.length);
  return Buffer.concat([size, frame]);
}

const CAPPED = new Map(SUPPORTED_APIS.filter(({ apiKey }) => apiKey === ApiKey.Metadata || apiKey === ApiKey.FindCoordinator).map(({ apiKey, maxVersion }) => [apiKey as number, maxVersion]));

async function rewrite(apiKey: number, apiVersion: number, frame: Buffer, listenerFor: (host: string, port: number) => Promise<Listener>): Promise<Buffer> {
  if (apiKey === ApiKey.ApiVersions && isVersionSupported(apiKey, apiVersion)) {
    const { correlationId, body } = decodeResponse(ApiKey.ApiVersions, apiVersion, frame);
    const apiKeys = body.apiKeys.map((api) => (CAPPED.has(api.apiKey) ? { ...api, maxVersion: Math.min(api.maxVersion, CAPPED.get(api.apiKey)!) } : api));
    return encodeResponse(ApiKey.ApiVersions, apiVersion, correlationId, { ...body, apiKeys });
  }
  if (apiKey === ApiKey.Metadata) {
    const { correlationId, body } = decodeResponse(ApiKey.Metadata, apiVersion, frame);
    const brokers = await Promise.all(
      body.brokers.map(async (broker) => {
        const { address } = await listenerFor(broker.host, broker.port);
        return { ...broker, host: address.host, port: address.port };
      }),
    );
    return encodeResponse(ApiKey.Metadata, apiVersion, correlationId, { ...body, brokers });
  }
  if (apiKey === ApiKey.FindCoordinator) {
    const { correlationId, body } = decodeResponse(ApiKey.FindCoordinator, apiVersion, frame);
    if (body.errorCode !== 0) return withSize(frame);
    const { address } = await listenerFor(body.host, body.port);
    return encodeResponse(ApiKey.FindCoordinator, apiVersion, correlationId, { ...body, host: address.host, port: address.port });
  }
  return withSize(frame);
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  if (colon < 0) throw new Error(`broker address ${address} has no port: use host:port`);
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}
