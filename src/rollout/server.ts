/**
 * `tandem rollout serve`: the OpenFeature Remote Evaluation Protocol (OFREP) for services in any
 * language, a small JSON API for operators, and the migration console at `/`. Every route needs an
 * API key from the connector (`X-API-Key`, `Authorization: Bearer`, or for browsers basic auth with
 * the key as password); a request without a valid key gets 401 and changes nothing. Keys are
 * compared in constant time and never logged; changes are audited under the key's name.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { Connector } from '../config/index.js';
import { TandemError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { renderConsole } from './console.js';
import type { RolloutController } from './controller.js';
import { readLastReconcileReport, readTrends } from './evidence.js';
import { evaluateFlag, flagKeys, type FlagEvaluation } from './flags.js';
import type { GateClient } from './sdk.js';
import type { Actor } from './state.js';
import { readHistory, StaleRolloutState } from './store.js';
import type pg from 'pg';

export type KeyRole = 'read' | 'operate';

export interface ApiKey {
  readonly name: string;
  readonly role: KeyRole;
  readonly digest: Buffer;
}

/** The connector's keys, hashed once (equal-length digests for a constant-time comparison). */
export function apiKeysOf(connector: Connector): ApiKey[] {
  return Object.entries(connector.rollout.serve.apiKeys).map(([name, value]) => {
    const { key, role } = typeof value === 'string' ? { key: value, role: 'read' as const } : value;
    return { name, role, digest: digest(key) };
  });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The key a request presents: X-API-Key, Authorization: Bearer, or basic auth's password. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | null {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const authorization = headers.authorization;
  if (typeof authorization !== 'string') return null;
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization);
  if (bearer) return bearer[1]!.trim();
  const basic = /^Basic\s+(.+)$/i.exec(authorization);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? null : decoded.slice(colon + 1);
  }
  return null;
}

export function authenticate(keys: readonly ApiKey[], presented: string | null): ApiKey | null {
  if (presented === null) return null;
  const candidate = digest(presented);
  let found: ApiKey | null = null;
  for (const key of keys) if (timingSafeEqual(key.digest, candidate)) found = key;
  return found;
}

export interface RolloutServerOptions {
  connector: Connector;
  controller: RolloutController;
  /** The target connection the controller uses (history, trends, reconcile report). */
  client: pg.ClientBase;
  /** Gate values for OFREP, kept current through LISTEN/NOTIFY. */
  gates: GateClient;
  logger: Logger;
  port: number;
  host?: string;
}

interface OfrepContext {
  context?: unknown;
}

function ofrepBody(evaluation: FlagEvaluation) {
  return evaluation.ok
    ? { key: evaluation.key, value: evaluation.value, reason: evaluation.reason, variant: evaluation.variant, metadata: evaluation.metadata }
    : { key: evaluation.key, errorCode: evaluation.errorCode, errorDetails: evaluation.errorDetails };
}

export async function startRolloutServer(options: RolloutServerOptions) {
  const keys = apiKeysOf(options.connector);
  if (keys.length === 0) {
    throw new TandemError(`rollout serve for ${options.connector.name} has no API key, so it would let anyone in`, {
      fix: "declare keys in the connector: rollout: { serve: { apiKeys: { ops: { key: env('TANDEM_OPS_KEY'), role: 'operate' }, services: env('TANDEM_SERVICES_KEY') } } }",
    });
  }
  const { controller, gates, logger } = options;
  const migration = options.connector.name;
  const app = Fastify({ logger: false });
  const identities = new WeakMap<FastifyRequest, ApiKey>();

  app.addHook('onRequest', async (request, reply) => {
    const key = authenticate(keys, presentedKey(request.headers));
    if (!key) {
      logger.warn({ method: request.method, url: request.url, ip: request.ip }, `rollout serve: ${request.method} ${request.url} refused (no valid API key)`);
      if (!request.url.startsWith('/ofrep/') && !request.url.startsWith('/api/')) reply.header('www-authenticate', 'Basic realm="tandem rollout", charset="UTF-8"');
      return reply.code(401).send({ errorDetails: 'a valid API key is required (X-API-Key or Authorization: Bearer)' });
    }
    identities.set(request, key);
  });

  // One target connection: changes and reads take turns, so a transaction never interleaves with another request.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  const actorOf = (request: FastifyRequest): Actor => ({ kind: 'api-key', name: identities.get(request)!.name, osUser: null });
  const requireOperate = (request: FastifyRequest, reply: FastifyReply): boolean => {
    if (identities.get(request)!.role === 'operate') return true;
    void reply.code(403).send({ errorDetails: `API key ${identities.get(request)!.name} may read gates but not change the rollout (role read)` });
    return false;
  };

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    if (request.url.startsWith('/ofrep/') && (error.statusCode ?? 500) < 500) {
      const key = (request.params as { key?: string } | undefined)?.key;
      return reply.code(400).send({ ...(key ? { key } : {}), errorCode: 'PARSE_ERROR', errorDetails: error.message });
    }
    if (error instanceof StaleRolloutState) return reply.code(409).send({ error: error.message, fix: error.fix });
    if (error instanceof TandemError) return reply.code(422).send({ error: error.message, fix: error.fix });
    logger.error({ err: error, url: request.url }, `rollout serve: ${request.method} ${request.url} failed`);
    return reply.code(500).send({ error: 'internal error (see the server log)' });
  });

  const evaluate = (key: string, context: Record<string, unknown>): FlagEvaluation => {
    const snapshot = gates.snapshot;
    if (!snapshot) return { ok: false, key, errorCode: 'GENERAL', errorDetails: `migration ${migration} has no rollout state yet` };
    const evaluation = evaluateFlag(snapshot, key, context);
    if (evaluation.ok && key === `${migration}.read`) gates.readFrom(String(context.targetingKey ?? ''), typeof context.service === 'string' ? context.service : undefined);
    return evaluation;
  };
  const contextOf = (body: unknown): Record<string, unknown> | null => {
    const context = (body as OfrepContext | undefined)?.context;
    if (context === undefined) return {};
    return context !== null && typeof context === 'object' && !Array.isArray(context) ? (context as Record<string, unknown>) : null;
  };

  app.get('/ofrep/v1/configuration', async () => ({
    name: 'tandem rollout',
    capabilities: {
      cacheInvalidation: { polling: { enabled: true, minPollingIntervalMs: 1_000 } },
      flagEvaluation: { supportedTypes: ['string'] },
    },
  }));

  app.post('/ofrep/v1/evaluate/flags/:key', async (request, reply) => {
    const { key } = request.params as { key: string };
    const context = contextOf(request.body);
    if (context === null) return reply.code(400).send({ key, errorCode: 'INVALID_CONTEXT', errorDetails: 'context must be an object' });
    const evaluation = evaluate(key, context);
    if (evaluation.ok) return ofrepBody(evaluation);
    return reply.code(evaluation.errorCode === 'FLAG_NOT_FOUND' ? 404 : evaluation.errorCode === 'GENERAL' ? 500 : 400).send(ofrepBody(evaluation));
  });

  app.post('/ofrep/v1/evaluate/flags', async (request, reply) => {
    const context = contextOf(request.body);
    if (context === null) return reply.code(400).send({ errorCode: 'INVALID_CONTEXT', errorDetails: 'context must be an object' });
    const body = JSON.stringify({ flags: flagKeys(migration).map((key) => ofrepBody(evaluate(key, context))) });
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    reply.header('etag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('application/json').send(body);
  });

  app.get('/api/status', async () => {
    const status = await exclusive(() => controller.status());
    return { migration, state: status.state, next: status.next?.name ?? null, verdict: status.verdict, triggers: status.triggers, evidence: status.evidence };
  });

  app.get('/api/history', async () => ({ entries: await exclusive(() => readHistory(options.client, migration)) }));

  app.post('/api/promote', async (request, reply) => {
    if (!requireOperate(request, reply)) return reply;
    const body = (request.body ?? {}) as { to?: string; force?: boolean; reason?: string };
    const result = await exclusive(() => controller.promote({ to: body.to, force: body.force, reason: body.reason }, actorOf(request)));
    return { state: result.state, auditId: result.auditId };
  });

  app.post('/api/rollback', async (request, reply) => {
    if (!requireOperate(request, reply)) return reply;
    const body = (request.body ?? {}) as { to?: string; reason?: string };
    const result = await exclusive(() => controller.rollback({ to: body.to, reason: body.reason ?? '' }, actorOf(request)));
    return { state: result.state, auditId: result.auditId };
  });

  app.post('/api/approve', async (request, reply) => {
    if (!requireOperate(request, reply)) return reply;
    const body = (request.body ?? {}) as { phase?: string; reason?: string };
    const result = await exclusive(() => controller.approve({ by: identities.get(request)!.name, phase: body.phase, reason: body.reason }, actorOf(request)));
    return { state: result.state, auditId: result.auditId };
  });

  app.get('/', async (request, reply) => {
    const [status, history, trends, lastReconcile] = await exclusive(async () => [await controller.status(), await readHistory(options.client, migration, 25), await readTrends(options.client, migration), await readLastReconcileReport(options.client, migration)] as const);
    reply.type('text/html; charset=utf-8');
    return renderConsole({ status, history, trends, lastReconcile, viewer: identities.get(request)!.name });
  });

  const address = await app.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
  const port = (app.server.address() as { port: number }).port;
  return { url: address, port, close: () => app.close() };
}
