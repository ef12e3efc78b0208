import type { Logger } from '../../observability/logger.js';
import type { GroupCoordinator } from './group/coordinator.js';
import type { ResolvedBrokerOptions } from './options.js';
import type { ApiKey, RequestBody, RequestHeader, ResponseInput } from './protocol/index.js';
import type { Durability } from './storage/durability.js';
import type { TopicRegistry } from './topics.js';

/** The single node of this cluster. */
export const NODE_ID = 0;

/** What every request handler may use: the broker's shared parts. */
export interface BrokerContext {
  readonly options: ResolvedBrokerOptions;
  readonly logger: Logger;
  readonly topics: TopicRegistry;
  readonly coordinator: GroupCoordinator;
  readonly durability: Durability;
  /** Host and port clients should dial (known once the server listens). */
  readonly advertised: { host: string; port: number };
  /** Set when the broker stops: parked requests (long-poll fetches) answer right away. */
  readonly stopping: AbortSignal;
}

/** Per-connection state that handlers read or change (SASL). */
export interface Session {
  readonly clientHost: string;
  authenticated: boolean;
  /** The client chose SASL/PLAIN with SaslHandshake. */
  mechanismChosen: boolean;
  /** After SaslHandshake v0 the next frame is a bare SASL token, not a Kafka request. */
  expectRawSaslToken: boolean;
  /** Close the connection once the current response is sent (failed authentication). */
  closeAfterResponse: boolean;
}

export interface RequestContext {
  readonly broker: BrokerContext;
  readonly session: Session;
  readonly header: RequestHeader;
}

/**
 * Handles one decoded request. Returns the response body, or null for no response at all
 * (Produce with acks=0). Any state change must happen synchronously before the first await, so
 * requests on one connection take effect in the order they were sent.
 */
export type Handler<K extends ApiKey> = (
  request: RequestBody<K>,
  context: RequestContext,
) => ResponseInput<K> | null | Promise<ResponseInput<K> | null>;
