import type { Handler } from '../context.js';
import { ErrorCode } from '../protocol/index.js';
import { plainTokenMatches } from '../sasl.js';

const NO_BYTES = Buffer.alloc(0);

/** Checks the PLAIN credentials; a failure is answered and then the connection is closed, as Kafka does. */
export const saslAuthenticate: Handler<36> = (request, { broker, session }) => {
  if (!broker.options.sasl || !session.mechanismChosen || session.authenticated) {
    session.closeAfterResponse = true;
    return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslHandshake must select PLAIN first', authBytes: NO_BYTES, sessionLifetimeMs: 0n };
  }
  if (!plainTokenMatches(request.authBytes, broker.options.sasl)) {
    session.closeAfterResponse = true;
    broker.logger.warn({ client: session.clientHost }, 'SASL/PLAIN authentication failed');
    return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: 'Authentication failed: Invalid username or password', authBytes: NO_BYTES, sessionLifetimeMs: 0n };
  }
  session.authenticated = true;
  return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: NO_BYTES, sessionLifetimeMs: 0n };
};
