import type { Socket } from 'node:net';
import type { BrokerContext, Handler, RequestContext, Session } from './context.js';
import { FrameError, FrameReader } from './frame-reader.js';
import { HANDLERS } from './handlers/index.js';
import {
  ApiKey,
  ProtocolError,
  decodeRequest,
  decodeRequestHeader,
  encodeApiVersionsUnsupported,
  encodeResponse,
  isSupportedApiKey,
  type RequestHeader,
} from './protocol/index.js';
import { isServed, SERVED_APIS } from './served-apis.js';
import { plainTokenMatches } from './sasl.js';

/** APIs an unauthenticated client may call when SASL is required. */
const BEFORE_AUTHENTICATION = new Set<number>([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

/**
 * One client connection: frames the byte stream, decodes each request, runs its handler and writes
 * the responses in request order (Kafka clients match them by order and correlation id). Requests
 * are handled as they arrive, so a parked long-poll Fetch does not stop later requests from taking
 * effect, only their responses from overtaking it. Anything malformed closes this connection only.
 */
export class Connection {
  private readonly frames: FrameReader;
  private readonly session: Session;
  /** Resolves when every response so far has been written. */
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly broker: BrokerContext,
  ) {
    this.frames = new FrameReader(broker.options.maxFrameBytes);
    this.session = {
      clientHost: `/${socket.remoteAddress ?? 'unknown'}`,
      authenticated: broker.options.sasl === null,
      mechanismChosen: false,
      expectRawSaslToken: false,
      closeAfterResponse: false,
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => broker.logger.debug({ err: error, client: this.session.clientHost }, 'connection error'));
    socket.on('close', () => {
      this.closed = true;
    });
  }

  /** Closes the connection, logging why (for people debugging a client). */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.broker.logger.warn({ client: this.session.clientHost, reason }, 'closing connection');
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (error) {
      if (error instanceof FrameError) return this.close(error.message);
      throw error;
    }
    for (const frame of frames) {
      if (this.closed) return;
      try {
        this.handleFrame(frame);
      } catch (error) {
        this.close(error instanceof ProtocolError ? `malformed request: ${error.message}` : `request failed: ${describe(error)}`);
        if (!(error instanceof ProtocolError)) this.broker.logger.error({ err: error }, 'request handler failed');
      }
    }
  }

  private handleFrame(frame: Buffer): void {
    if (this.session.expectRawSaslToken) return this.authenticateRawToken(frame);
    const header = decodeRequestHeader(frame);
    const { apiKey, apiVersion } = header;
    if (!isSupportedApiKey(apiKey)) return this.close(`unsupported API key ${apiKey}`);
    if (!this.session.authenticated && !BEFORE_AUTHENTICATION.has(apiKey)) {
      return this.close(`API key ${apiKey} sent before SASL authentication`);
    }
    if (!isServed(apiKey, apiVersion)) {
      // Kafka answers an ApiVersions it does not know in the v0 layout so the client can retry lower.
      if (apiKey === ApiKey.ApiVersions) return this.respond(Promise.resolve(encodeApiVersionsUnsupported(header.correlationId, SERVED_APIS)));
      return this.close(`API key ${apiKey} version ${apiVersion} is not supported`);
    }
    const request = decodeRequest(apiKey, apiVersion, frame, header.headerSize);
    const context: RequestContext = { broker: this.broker, session: this.session, header };
    const result = (HANDLERS[apiKey] as Handler<typeof apiKey>)(request as never, context);
    this.respond(
      Promise.resolve(result).then(async (body) => {
        if (body === null) return null;
        const hooks = this.broker.options.testHooks;
        if (hooks.dropResponse?.(apiKey, request)) return 'drop' as const;
        const delay = hooks.delayResponseMs?.(apiKey) ?? 0;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        return encodeResponse(apiKey, apiVersion, header.correlationId, body as never);
      }),
      header,
    );
  }

  /** Queues a response behind the earlier ones; null = nothing to send (acks=0), 'drop' = test hook. */
  private respond(response: Promise<Buffer | null | 'drop'>, header?: RequestHeader): void {
    const closeAfter = this.session.closeAfterResponse;
    this.tail = this.tail
      .then(() => response)
      .then(
        (bytes) => {
          if (this.closed || bytes === null) return;
          if (bytes === 'drop') return this.close(`test hook dropped the response to API key ${header?.apiKey}`);
          // A client that does not read its responses stops being read from (as Kafka mutes it).
          if (!this.socket.write(bytes) && !this.socket.isPaused()) {
            this.socket.pause();
            this.socket.once('drain', () => this.socket.resume());
          }
          if (closeAfter) this.socket.end();
        },
        (error: unknown) => {
          this.broker.logger.error({ err: error, apiKey: header?.apiKey }, 'request handler failed');
          this.close(`request failed: ${describe(error)}`);
        },
      );
  }

  /** SaslHandshake v0: the token comes as a bare frame; success is an empty frame, failure a closed socket. */
  private authenticateRawToken(token: Buffer): void {
    this.session.expectRawSaslToken = false;
    if (!this.broker.options.sasl || !plainTokenMatches(token, this.broker.options.sasl)) {
      return this.close('SASL/PLAIN authentication failed');
    }
    this.session.authenticated = true;
    this.respond(Promise.resolve(Buffer.alloc(4)));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
