/**
 * Access to kafkajs 2.2.4's own protocol encoders and decoders, so the broker codecs are checked
 * against the bytes the real client writes and reads.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface KafkajsRequest {
  apiKey: number;
  apiVersion: number;
  encode(): Promise<unknown>;
}

interface KafkajsResponse {
  decode(payload: Buffer): Promise<any>;
  parse(decoded: any): Promise<any>;
}

const buildRequestFrame = require('kafkajs/src/protocol/request.js') as (args: {
  correlationId: number;
  clientId: string;
  request: KafkajsRequest;
}) => Promise<{ buffer: Buffer }>;

export const Long = require('kafkajs/src/utils/long.js');
export const kafkajsRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch(args: Record<string, unknown>): Promise<{ buffer: Buffer }>;
};
export const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (args: Record<string, unknown>) => unknown;
export const kafkajsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<any>;
export const KafkajsDecoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;

/** The request as kafkajs frames it: header v1 + body, without the 4-byte size prefix. */
export async function kafkajsRequestFrame(
  api: string,
  version: number,
  args: unknown,
  correlationId = 42,
  clientId = 'tandem-test',
): Promise<Buffer> {
  const makeRequest = require(`kafkajs/src/protocol/requests/${api}/v${version}/request.js`) as (args: unknown) => KafkajsRequest;
  const request = makeRequest(args);
  expectVersion(request, version);
  const encoded = await buildRequestFrame({ correlationId, clientId, request });
  return encoded.buffer.subarray(4);
}

function expectVersion(request: KafkajsRequest, version: number): void {
  if (request.apiVersion !== version) throw new Error(`kafkajs request has version ${request.apiVersion}, expected ${version}`);
}

/**
 * Reads a response the way kafkajs's connection does: strips the size prefix and correlation id
 * (kafkajs never uses flexible versions, so no header tags), then runs the version's decode and parse.
 */
export async function kafkajsReadResponse(
  api: string,
  version: number,
  wire: Buffer,
  options: { parse?: boolean; requestArgs?: unknown } = {},
): Promise<any> {
  const module = require(`kafkajs/src/protocol/requests/${api}/v${version}/response.js`) as
    | KafkajsResponse
    | ((requestArgs: unknown) => KafkajsResponse);
  // A few kafkajs responses (DeleteRecords) are factories over the request arguments.
  const response = typeof module === 'function' ? module(options.requestArgs) : module;
  const size = wire.readInt32BE(0);
  if (size !== wire.length - 4) throw new Error(`size prefix ${size} but ${wire.length - 4} bytes follow`);
  const decoded = await response.decode(wire.subarray(8));
  return options.parse === false ? decoded : response.parse(decoded);
}

/** The versions kafkajs implements for an API (its requests/<api>/index.js). */
export function kafkajsVersions(api: string): number[] {
  const module = require(`kafkajs/src/protocol/requests/${api}/index.js`) as { versions: string[] };
  return module.versions.map(Number).sort((a, b) => a - b);
}
