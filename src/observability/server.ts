import Fastify from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthReport {
  healthy: boolean;
  [detail: string]: unknown;
}

/** `/metrics` (Prometheus text) and `/health` (200 or 503 with a JSON body) for a worker. */
export async function startObservabilityServer(options: { port: number; host?: string; registry: Registry; health: () => HealthReport | Promise<HealthReport> }) {
  const app = Fastify({ logger: false });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });
  app.get('/health', async (_request, reply) => {
    const report = await options.health();
    reply.code(report.healthy ? 200 : 503);
    return report;
  });
  const address = await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
  return { url: address, port: (app.server.address() as { port: number }).port, close: () => app.close() };
}
