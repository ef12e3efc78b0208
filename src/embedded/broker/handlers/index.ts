import type { Handler } from '../context.js';
import type { ApiKey } from '../protocol/index.js';
import { apiVersions } from './apiVersions.js';
import { createPartitions } from './createPartitions.js';
import { createTopics } from './createTopics.js';
import { deleteGroups } from './deleteGroups.js';
import { deleteRecords } from './deleteRecords.js';
import { deleteTopics } from './deleteTopics.js';
import { describeConfigs } from './describeConfigs.js';
import { describeGroups } from './describeGroups.js';
import { fetch } from './fetch.js';
import { findCoordinator } from './findCoordinator.js';
import { heartbeat } from './heartbeat.js';
import { initProducerId } from './initProducerId.js';
import { joinGroup } from './joinGroup.js';
import { leaveGroup } from './leaveGroup.js';
import { listGroups } from './listGroups.js';
import { listOffsets } from './listOffsets.js';
import { metadata } from './metadata.js';
import { offsetCommit } from './offsetCommit.js';
import { offsetFetch } from './offsetFetch.js';
import { produce } from './produce.js';
import { saslAuthenticate } from './saslAuthenticate.js';
import { saslHandshake } from './saslHandshake.js';
import { syncGroup } from './syncGroup.js';

/** One handler per API the codecs support (the type makes a missing one a compile error). */
export const HANDLERS: { [K in ApiKey]: Handler<K> } = {
  0: produce,
  1: fetch,
  2: listOffsets,
  3: metadata,
  8: offsetCommit,
  9: offsetFetch,
  10: findCoordinator,
  11: joinGroup,
  12: heartbeat,
  13: leaveGroup,
  14: syncGroup,
  15: describeGroups,
  16: listGroups,
  17: saslHandshake,
  18: apiVersions,
  19: createTopics,
  20: deleteTopics,
  21: deleteRecords,
  22: initProducerId,
  32: describeConfigs,
  36: saslAuthenticate,
  37: createPartitions,
  42: deleteGroups,
};
