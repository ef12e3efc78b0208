/**
 * Request/response framing: headers plus bodies, for the APIs in generated/index.ts.
 *
 * Conventions: decoders take a *frame*, the bytes after the 4-byte size prefix; encoders return
 * buffers ready for the socket, size prefix included.
 */
import { ProtocolError, Reader, Writer, decodeMessage, encodeMessage, isFlexible, type Encodable } from './codec.js';
import { ErrorCode } from './error-code.js';
import { API_DEFINITIONS, ApiKey, type ApiDefinition, type RequestBodies, type ResponseBodies } from './generated/index.js';

export type RequestBody<K extends ApiKey> = RequestBodies[K];
export type ResponseBody<K extends ApiKey> = ResponseBodies[K];
/** What encodeResponse accepts: the response body with every field optional (omitted = spec default). */
export type ResponseInput<K extends ApiKey> = Encodable<ResponseBodies[K]>;
export type RequestInput<K extends ApiKey> = Encodable<RequestBodies[K]>;

export interface SupportedApi {
  readonly apiKey: ApiKey;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** The APIs and exact version ranges the codecs implement: advertise these in ApiVersions. */
export const SUPPORTED_APIS: readonly SupportedApi[] = API_DEFINITIONS.map(({ apiKey, name, minVersion, maxVersion }) => ({
  apiKey,
  name,
  minVersion,
  maxVersion,
}));

const definitionsByKey = new Map<number, ApiDefinition>(API_DEFINITIONS.map((definition) => [definition.apiKey, definition]));

export function isSupportedApiKey(apiKey: number): apiKey is ApiKey {
  return definitionsByKey.has(apiKey);
}

export function isVersionSupported(apiKey: number, apiVersion: number): boolean {
  const definition = definitionsByKey.get(apiKey);
  return definition !== undefined && apiVersion >= definition.minVersion && apiVersion <= definition.maxVersion;
}

function definitionFor(apiKey: number, apiVersion: number): ApiDefinition {
  const definition = definitionsByKey.get(apiKey);
  if (!definition) throw new ProtocolError(`unsupported API key ${apiKey}`);
  if (apiVersion < definition.minVersion || apiVersion > definition.maxVersion) {
    throw new ProtocolError(
      `${definition.name} version ${apiVersion} is not supported (${definition.minVersion}-${definition.maxVersion})`,
    );
  }
  return definition;
}

// ---------------------------------------------------------------- headers

export interface RequestHeader {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** Bytes from the start of the frame to the request body. */
  readonly headerSize: number;
}

/**
 * Request header v2 (with a tagged section) is used exactly when the request version is flexible.
 * Flexibility only ever starts at some version and stays, so a version above our maximum of a
 * flexible API (e.g. ApiVersions v4 from a newer client) still has a v2 header.
 */
function requestIsFlexible(apiKey: number, apiVersion: number): boolean {
  const first = definitionsByKey.get(apiKey)?.request.firstFlexibleVersion;
  return first !== undefined && first !== null && apiVersion >= first;
}

/** Response header v1 (tagged section) for flexible responses, except ApiVersions which always uses v0. */
function responseHeaderHasTags(definition: ApiDefinition, apiVersion: number): boolean {
  return definition.apiKey !== ApiKey.ApiVersions && isFlexible(definition.response, apiVersion);
}

/** Decodes the request header (v1, or v2 for flexible versions). `frame` excludes the size prefix. */
export function decodeRequestHeader(frame: Buffer): RequestHeader {
  const reader = new Reader(frame);
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  // client_id keeps its int16 length even in header v2.
  const clientIdLength = reader.int16();
  if (clientIdLength < -1) throw new ProtocolError(`invalid client id length ${clientIdLength}`);
  const clientId = clientIdLength === -1 ? null : reader.utf8(clientIdLength);
  if (requestIsFlexible(apiKey, apiVersion)) skipTaggedFields(reader);
  return { apiKey, apiVersion, correlationId, clientId, headerSize: reader.offset };
}

function skipTaggedFields(reader: Reader): void {
  const count = reader.uvarint();
  for (let index = 0; index < count; index++) {
    reader.uvarint(); // tag
    reader.skip(reader.uvarint());
  }
}

// ---------------------------------------------------------------- bodies

/** Decodes a request body that starts at `offset` (normally the header's headerSize). */
export function decodeRequest<K extends ApiKey>(apiKey: K, apiVersion: number, frame: Buffer, offset: number): RequestBody<K> {
  const definition = definitionFor(apiKey, apiVersion);
  return decodeMessage(definition.request, apiVersion, new Reader(frame, offset)) as unknown as RequestBody<K>;
}

/** Encodes a response with its size prefix and the response header version the client expects. */
export function encodeResponse<K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ResponseInput<K>,
): Buffer {
  const definition = definitionFor(apiKey, apiVersion);
  const writer = new Writer();
  writer.int32(0); // size, patched below
  writer.int32(correlationId);
  if (responseHeaderHasTags(definition, apiVersion)) writer.uvarint(0);
  encodeMessage(definition.response, apiVersion, writer, body);
  writer.patchInt32(0, writer.offset - 4);
  return writer.finish();
}

/**
 * The answer to an ApiVersions request whose version we do not serve: the v0 layout with
 * UNSUPPORTED_VERSION and our ranges, so the client (librdkafka) retries with a version we know.
 */
export function encodeApiVersionsUnsupported(
  correlationId: number,
  supported: readonly { apiKey: number; minVersion: number; maxVersion: number }[] = SUPPORTED_APIS,
): Buffer {
  return encodeResponse(ApiKey.ApiVersions, 0, correlationId, {
    errorCode: ErrorCode.UNSUPPORTED_VERSION,
    apiKeys: supported.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })),
  });
}

// ---------------------------------------------------------------- the client side (tests, tools)

/** Encodes a request (header v1 or v2, size prefix included): the mirror image of decodeRequest. */
export function encodeRequest<K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: RequestInput<K>,
): Buffer {
  const definition = definitionFor(apiKey, apiVersion);
  const writer = new Writer();
  writer.int32(0);
  writer.int16(apiKey);
  writer.int16(apiVersion);
  writer.int32(correlationId);
  if (clientId === null) writer.int16(-1);
  else {
    const length = Buffer.byteLength(clientId);
    writer.int16(length);
    writer.utf8(clientId, length);
  }
  if (isFlexible(definition.request, apiVersion)) writer.uvarint(0);
  encodeMessage(definition.request, apiVersion, writer, body);
  writer.patchInt32(0, writer.offset - 4);
  return writer.finish();
}

/** Decodes a response frame (after the size prefix): the mirror image of encodeResponse. */
export function decodeResponse<K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  frame: Buffer,
): { correlationId: number; body: ResponseBody<K> } {
  const definition = definitionFor(apiKey, apiVersion);
  const reader = new Reader(frame);
  const correlationId = reader.int32();
  if (responseHeaderHasTags(definition, apiVersion)) skipTaggedFields(reader);
  const body = decodeMessage(definition.response, apiVersion, reader) as unknown as ResponseBody<K>;
  return { correlationId, body };
}
