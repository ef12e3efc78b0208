import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of a translate worker. One registry per worker so tests can run several. */
export function createTranslateMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tandem_process_' });
  return {
    registry,
    applied: new Counter({ name: 'tandem_translate_rows_applied_total', help: 'Target rows written, by target table and op (upsert, delete: a delete rule or a row leaving the filter)', labelNames: ['target', 'op'], registers: [registry] }),
    events: new Counter({ name: 'tandem_translate_events_total', help: 'Change events consumed, by topic and outcome (applied, skipped as already applied, parked, dead_lettered)', labelNames: ['topic', 'outcome'], registers: [registry] }),
    batchSize: new Histogram({ name: 'tandem_translate_batch_events', help: 'Events per applied batch', buckets: [1, 10, 100, 500, 1000, 5000, 10000, 50000], registers: [registry] }),
    batchSeconds: new Histogram({ name: 'tandem_translate_batch_seconds', help: 'Time to apply a batch (decode to commit)', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    endToEndLag: new Histogram({ name: 'tandem_translate_end_to_end_lag_seconds', help: 'Source commit time to target commit time of applied changes', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: [registry] }),
    consumerLag: new Gauge({ name: 'tandem_translate_consumer_lag_messages', help: 'High watermark minus the next offset to apply, per partition', labelNames: ['topic', 'partition'], registers: [registry] }),
    parked: new Gauge({ name: 'tandem_translate_parked_rows', help: 'Rows parked because a foreign-key parent had not arrived, per partition', labelNames: ['topic', 'partition'], registers: [registry] }),
    parkedTotal: new Counter({ name: 'tandem_translate_parked_total', help: 'Changes parked', registers: [registry] }),
    deadLettered: new Counter({ name: 'tandem_translate_dead_lettered_total', help: 'Changes sent to a dead-letter topic', registers: [registry] }),
    retries: new Counter({ name: 'tandem_translate_retries_total', help: 'Batches retried after a transient failure', registers: [registry] }),
  };
}

export type TranslateMetrics = ReturnType<typeof createTranslateMetrics>;
