import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import { knownSecrets } from '../observability/redact.js';
import { packBatch, type KafkaMessage } from './batch-transfer.js';
import type { FromProducerThread, ToProducerThread } from './producer-worker.js';

/**
 * The thread's entry: compiled JavaScript next to this file (a `npm run build` in dist/), or the
 * TypeScript source loaded through tsx's ESM API, the way bin/tandem.js runs it.
 */
function producerWorkerEntry(): URL {
  if (import.meta.url.endsWith('.js')) return new URL('./producer-worker.js', import.meta.url);
  const tsxEsmApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const source = new URL('./producer-worker.ts', import.meta.url).href;
  const bootstrap = `import { register } from ${JSON.stringify(tsxEsmApi)};\nregister();\nawait import(${JSON.stringify(source)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

/** Sends batches of messages to Kafka and resolves once they are acknowledged (acks=-1). */
export interface BatchProducer {
  send(messages: readonly KafkaMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * The idempotent kafkajs producer on a thread of its own. kafkajs spends several microseconds of
 * CPU per message; off the main thread, that work runs beside WAL decoding and Avro encoding
 * instead of after it. Batches are sent one at a time by the caller, so order is kept.
 */
export async function startProducerThread(kafka: Connector['kafka'], logLevel: string): Promise<BatchProducer> {
  const worker = new Worker(producerWorkerEntry(), { workerData: { kafka, logLevel, secrets: knownSecrets() } });
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let fatal: Error | null = null;
  const failAll = (error: Error) => {
    fatal ??= error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };

  await new Promise<void>((resolve, reject) => {
    worker.on('message', (message: FromProducerThread) => {
      if (message.type === 'ready') resolve();
      else if (message.type === 'sent') {
        pending.get(message.id)?.resolve();
        pending.delete(message.id);
      } else if (message.id === null) {
        reject(new TandemError(`cannot connect the Kafka producer to ${kafka.brokers.join(',')}: ${message.message}`, { fix: 'check kafka.brokers and that the brokers are running (tandem doctor)' }));
      } else {
        pending.get(message.id)?.reject(new Error(message.message));
        pending.delete(message.id);
      }
    });
    worker.on('error', (error) => {
      failAll(error);
      reject(error);
    });
    worker.on('exit', (code) => failAll(new Error(`the Kafka producer thread exited (code ${code})`)));
  });

  return {
    send(messages) {
      if (fatal) return Promise.reject(fatal);
      const id = nextId++;
      const batch = packBatch(messages);
      const done = new Promise<void>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker.postMessage({ type: 'send', id, batch } satisfies ToProducerThread, [batch.payload]);
      return done;
    },
    async disconnect() {
      if (fatal) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'disconnect' } satisfies ToProducerThread);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      await worker.terminate();
    },
  };
}
