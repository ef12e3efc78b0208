import type { Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';
import { SERVED_APIS } from '../served-apis.js';

/** Lists the APIs and versions the broker serves (an unsupported ApiVersions version is answered by the connection). */
export const apiVersions: Handler<18> = () => ({
  errorCode: ErrorCode.NONE,
  apiKeys: SERVED_APIS.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })),
  throttleTimeMs: 0,
});
