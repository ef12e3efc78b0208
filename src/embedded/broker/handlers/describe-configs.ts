import { NODE_ID, type BrokerContext, type Handler } from '../context.js';
import { ErrorCode, type DescribeConfigsResponseDescribeConfigsResourceResult as ConfigEntry } from '../protocol/index.js';

const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;
const SOURCE_TOPIC_OVERRIDE = 1;
const SOURCE_STATIC_BROKER = 4;
const SOURCE_DEFAULT = 5;

/** Topic configs (overrides given at creation over the broker defaults) and the broker's own settings. */
export const describeConfigs: Handler<32> = (request, { broker }) => ({
  throttleTimeMs: 0,
  results: request.resources.map(({ resourceType, resourceName, configurationKeys }) => {
    const keep = (entry: ConfigEntry) => configurationKeys === null || configurationKeys.includes(entry.name);
    const result = { errorCode: ErrorCode.NONE, errorMessage: null, resourceType, resourceName };
    if (resourceType === RESOURCE_TOPIC) {
      const topic = broker.topics.get(resourceName);
      if (!topic) return { ...result, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${resourceName}' does not exist.`, configs: [] };
      const defaults = topicDefaults(broker);
      const names = new Set([...Object.keys(defaults), ...Object.keys(topic.configs)]);
      const configs = [...names].map((name) =>
        name in topic.configs ? entry(name, topic.configs[name], SOURCE_TOPIC_OVERRIDE) : entry(name, defaults[name], SOURCE_DEFAULT),
      );
      return { ...result, configs: configs.filter(keep) };
    }
    if (resourceType === RESOURCE_BROKER && (resourceName === '' || resourceName === String(NODE_ID))) {
      const configs = Object.entries(brokerSettings(broker)).map(([name, value]) => entry(name, value, SOURCE_STATIC_BROKER, true));
      return { ...result, configs: configs.filter(keep) };
    }
    return { ...result, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Resource type ${resourceType} "${resourceName}" is not known.`, configs: [] };
  }),
});

function topicDefaults(broker: BrokerContext): Record<string, string> {
  return {
    'cleanup.policy': 'delete',
    'compression.type': 'producer',
    'max.message.bytes': String(broker.options.maxMessageBytes),
    'message.timestamp.type': 'CreateTime',
    'min.insync.replicas': '1',
    'retention.bytes': '-1',
    'retention.ms': '-1',
    'segment.bytes': String(broker.options.segmentBytes),
  };
}

function brokerSettings(broker: BrokerContext): Record<string, string> {
  return {
    'broker.id': String(NODE_ID),
    'auto.create.topics.enable': String(broker.options.autoCreateTopics),
    'num.partitions': String(broker.options.defaultPartitions),
    'message.max.bytes': String(broker.options.maxMessageBytes),
    'default.replication.factor': '1',
    'log.dirs': broker.options.dataDir,
  };
}

function entry(name: string, value: string, source: number, readOnly = false): ConfigEntry {
  return {
    name,
    value,
    readOnly,
    isDefault: source === SOURCE_DEFAULT,
    configSource: source,
    isSensitive: false,
    synonyms: [],
    configValueType: null,
  };
}
