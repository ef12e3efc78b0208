import type { Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';
import { SASL_MECHANISM } from '../sasl.js';

/** Selects SASL/PLAIN. After v0 the client sends the bare token next; after v1 it uses SaslAuthenticate. */
export const saslHandshake: Handler<17> = (request, { broker, session, header }) => {
  const mechanisms = broker.options.sasl ? [SASL_MECHANISM] : [];
  if (!broker.options.sasl || request.mechanism !== SASL_MECHANISM) {
    return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
  }
  session.mechanismChosen = true;
  session.expectRawSaslToken = header.apiVersion === 0;
  return { errorCode: ErrorCode.NONE, mechanisms };
};
