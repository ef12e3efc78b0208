/**
 * A Confluent-compatible schema registry (the REST subset tandem and its clients use), for the
 * one-machine default. Same status codes, `{error_code, message}` bodies and content type as
 * Confluent's, so the real @kafkajs/confluent-schema-registry client works against it.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLogger, type Logger } from '../../observability/logger.js';
import { openChangeLog } from './change-log.js';
import { RegistryError, RegistryService, type SchemaRequest } from './service.js';

export interface RegistryOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  dataDir: string;
  /** `user:password`: every request must carry it as HTTP basic auth. */
  basicAuth?: string;
  logger?: Logger;
}

export interface RunningRegistry {
  url: string;
  stop(): Promise<void>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const ACCEPTED_BODY_TYPES = ['application/vnd.schemaregistry.v1+json', 'application/vnd.schemaregistry+json', 'application/octet-stream'];

export async function startRegistry(options: RegistryOptions): Promise<RunningRegistry> {
  const service = new RegistryService(await openChangeLog(options.dataDir));
  const logger = options.logger ?? createLogger({ level: 'silent', pretty: false });
  // Per-request log lines would drown the worker logs; errors are logged by the error handler.
  const app = Fastify({ loggerInstance: logger.child({ component: 'registry' }), logController: new LogController({ disableRequestLogging: true }) });
  app.addContentTypeParser(ACCEPTED_BODY_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, body === '' ? {} : JSON.parse(body as string));
    } catch {
      done(new RegistryError(400, 400, 'Unrecognized request body: not valid JSON'), undefined);
    }
  });
  if (options.basicAuth) app.addHook('onRequest', requireBasicAuth(options.basicAuth));
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-type', CONTENT_TYPE);
    return payload;
  });
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof RegistryError) return reply.status(error.status).send({ error_code: error.errorCode, message: error.message });
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status < 500) return reply.status(status).send({ error_code: status, message: (error as Error).message });
    logger.error({ err: error }, 'schema registry request failed');
    return reply.status(500).send({ error_code: 50001, message: `Error in the backend data store: ${(error as Error).message}` });
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ error_code: 404, message: `HTTP 404 Not Found: ${request.method} ${request.url}` }));
  registerRoutes(app, service);

  await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async stop() {
      await app.close();
      await service.close();
    },
  };
}

type Params = { subject: string; version: string; id: string };
type Query = { permanent?: string; deleted?: string; verbose?: string; defaultToGlobal?: string };
type Request = FastifyRequest<{ Params: Params; Querystring: Query; Body: SchemaRequest }>;

function registerRoutes(app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>, service: RegistryService): void {
  const flag = (value: string | undefined) => value === 'true';

  app.get('/', async () => ({}));
  app.get('/subjects', async (request: Request) => service.subjects(flag(request.query.deleted)));
  app.post('/subjects/:subject/versions', async (request: Request) => service.register(request.params.subject, request.body ?? {}));
  app.post('/subjects/:subject', async (request: Request) => service.lookup(request.params.subject, request.body ?? {}));
  app.get('/subjects/:subject/versions', async (request: Request) => service.versions(request.params.subject, flag(request.query.deleted)));
  app.get('/subjects/:subject/versions/:version', async (request: Request) => service.version(request.params.subject, request.params.version, flag(request.query.deleted)));
  app.get('/subjects/:subject/versions/:version/schema', async (request: Request, reply: FastifyReply) =>
    reply.send(service.version(request.params.subject, request.params.version, flag(request.query.deleted)).schema),
  );
  app.delete('/subjects/:subject', async (request: Request) => service.deleteSubject(request.params.subject, flag(request.query.permanent)));
  app.delete('/subjects/:subject/versions/:version', async (request: Request) => service.deleteVersion(request.params.subject, request.params.version, flag(request.query.permanent)));

  app.get('/schemas/ids/:id', async (request: Request) => service.schemaById(schemaId(request.params.id)));
  app.get('/schemas/ids/:id/versions', async (request: Request) => service.subjectVersionsOfSchema(schemaId(request.params.id)));

  // Without a version: against every version the subject's mode checks.
  const compatibility = async (request: Request) => {
    const result = service.testCompatibility(request.params.subject, request.params.version, request.body ?? {});
    return flag(request.query.verbose) ? result : { is_compatible: result.is_compatible };
  };
  app.post('/compatibility/subjects/:subject/versions/:version', compatibility);
  app.post('/compatibility/subjects/:subject/versions', compatibility);

  app.get('/config', async () => service.globalConfig());
  app.put('/config', async (request: Request) => service.setConfig(null, request.body));
  app.get('/config/:subject', async (request: Request) => service.subjectConfig(request.params.subject, flag(request.query.defaultToGlobal)));
  app.put('/config/:subject', async (request: Request) => service.setConfig(request.params.subject, request.body));
  app.delete('/config/:subject', async (request: Request) => service.deleteSubjectConfig(request.params.subject));
}

function schemaId(text: string): number {
  if (!/^\d+$/.test(text)) throw new RegistryError(404, 40403, `Schema ${text} not found`);
  return Number(text);
}

function requireBasicAuth(credentials: string) {
  const expected = Buffer.from(`Basic ${Buffer.from(credentials).toString('base64')}`);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      reply.header('www-authenticate', 'Basic realm="tandem schema registry"');
      return reply.status(401).send({ error_code: 401, message: 'Unauthorized' });
    }
  };
}
