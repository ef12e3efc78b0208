import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of a capture worker. One registry per worker so tests can run several. */
export function createCaptureMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tandem_process_' });
  return {
    registry,
    events: new Counter({ name: 'tandem_capture_events_total', help: 'Change events acknowledged by Kafka, by table and op', labelNames: ['table', 'op'], registers: [registry] }),
    bytes: new Counter({ name: 'tandem_capture_bytes_total', help: 'Bytes of change events (key + value) acknowledged by Kafka', registers: [registry] }),
    errors: new Counter({ name: 'tandem_capture_errors_total', help: 'Errors that stopped or restarted the stream, by kind', labelNames: ['kind'], registers: [registry] }),
    slotLagBytes: new Gauge({ name: 'tandem_capture_slot_lag_bytes', help: "pg_current_wal_lsn() - the slot's confirmed_flush_lsn", registers: [registry] }),
    slotLagSeconds: new Gauge({ name: 'tandem_capture_slot_lag_seconds', help: 'While transactions read from the WAL wait for Kafka: seconds since the commit time of the newest transaction read (updated each heartbeat); 0 when none waits', registers: [registry] }),
    snapshotRows: new Counter({ name: 'tandem_capture_snapshot_rows_total', help: 'Rows emitted by snapshots (initial and incremental), by table', labelNames: ['table'], registers: [registry] }),
    snapshotTotalRows: new Gauge({ name: 'tandem_capture_snapshot_rows_estimated', help: 'Estimated rows of each table being snapshotted', labelNames: ['table'], registers: [registry] }),
    durableLsn: new Gauge({ name: 'tandem_capture_durable_lsn', help: 'The LSN confirmed to the slot (as a number)', registers: [registry] }),
  };
}

export type CaptureMetrics = ReturnType<typeof createCaptureMetrics>;
