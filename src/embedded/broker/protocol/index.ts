/**
 * The Kafka wire protocol of the embedded broker: pure codecs over plain data.
 *
 * Field names are the Apache Kafka spec names with a lowercase first letter; int64 fields are
 * bigint; fields a version lacks decode to their spec default and may be omitted when encoding.
 */
export { ProtocolError, type Encodable } from './codec.js';
export { ErrorCode } from './error-code.js';
export { ApiKey, type RequestBodies, type ResponseBodies } from './generated/index.js';
export {
  SUPPORTED_APIS,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeApiVersionsUnsupported,
  encodeRequest,
  encodeResponse,
  isSupportedApiKey,
  isVersionSupported,
  type RequestBody,
  type RequestHeader,
  type RequestInput,
  type ResponseBody,
  type ResponseInput,
  type SupportedApi,
} from './messages.js';
export * from './record-batch.js';
export { crc32c } from './crc32c.js';
export * from './consumer-protocol.js';
export type * from './generated/produce.js';
export type * from './generated/fetch.js';
export type * from './generated/list-offsets.js';
export type * from './generated/metadata.js';
export type * from './generated/offset-commit.js';
export type * from './generated/offset-fetch.js';
export type * from './generated/find-coordinator.js';
export type * from './generated/join-group.js';
export type * from './generated/heartbeat.js';
export type * from './generated/leave-group.js';
export type * from './generated/sync-group.js';
export type * from './generated/describe-groups.js';
export type * from './generated/list-groups.js';
export type * from './generated/sasl-handshake.js';
export type * from './generated/api-versions.js';
export type * from './generated/create-topics.js';
export type * from './generated/delete-topics.js';
export type * from './generated/delete-records.js';
export type * from './generated/init-producer-id.js';
export type * from './generated/describe-configs.js';
export type * from './generated/sasl-authenticate.js';
export type * from './generated/create-partitions.js';
export type * from './generated/delete-groups.js';
