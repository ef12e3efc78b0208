/**
 * The Kafka wire protocol of the embedded broker: pure codecs over plain data.
 *
 * Field names are the Apache Kafka spec names with a lowercase first letter; int64 fields are
 * bigint; fields a version lacks decode to their spec default and may be omitted when encoding.
 */
export { ProtocolError, type Encodable } from './codec.js';
export { ErrorCode } from './errorCode.js';
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
export * from './recordBatch.js';
export { crc32c } from './crc32c.js';
export * from './consumerProtocol.js';
export type * from './generated/produce.js';
export type * from './generated/fetch.js';
export type * from './generated/listOffsets.js';
export type * from './generated/metadata.js';
export type * from './generated/offsetCommit.js';
export type * from './generated/offsetFetch.js';
export type * from './generated/findCoordinator.js';
export type * from './generated/joinGroup.js';
export type * from './generated/heartbeat.js';
export type * from './generated/leaveGroup.js';
export type * from './generated/syncGroup.js';
export type * from './generated/describeGroups.js';
export type * from './generated/listGroups.js';
export type * from './generated/saslHandshake.js';
export type * from './generated/apiVersions.js';
export type * from './generated/createTopics.js';
export type * from './generated/deleteTopics.js';
export type * from './generated/deleteRecords.js';
export type * from './generated/initProducerId.js';
export type * from './generated/describeConfigs.js';
export type * from './generated/saslAuthenticate.js';
export type * from './generated/createPartitions.js';
export type * from './generated/deleteGroups.js';
