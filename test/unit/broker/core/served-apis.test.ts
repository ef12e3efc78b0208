import { describe, expect, it } from 'vitest';
import { ApiKey, SUPPORTED_APIS } from '../../../../src/embedded/broker/protocol/index.js';
import { isServed, SERVED_APIS } from '../../../../src/embedded/broker/served-apis.js';

describe('the versions the broker advertises', () => {
  it('leaves out Produce before v3 and Fetch before v4, whose message-set formats it does not store', () => {
    const served = (apiKey: number) => SERVED_APIS.find((api) => api.apiKey === apiKey)!;
    expect(served(ApiKey.Produce)).toMatchObject({ minVersion: 3, maxVersion: 8 });
    expect(served(ApiKey.Fetch)).toMatchObject({ minVersion: 4, maxVersion: 11 });
    expect(isServed(ApiKey.Produce, 2)).toBe(false);
    expect(isServed(ApiKey.Produce, 7)).toBe(true);
    expect(isServed(ApiKey.Fetch, 3)).toBe(false);
  });

  it('keeps every other API at the range its codec implements', () => {
    const others = SERVED_APIS.filter((api) => api.apiKey !== ApiKey.Produce && api.apiKey !== ApiKey.Fetch);
    expect(others).toEqual(SUPPORTED_APIS.filter((api) => api.apiKey !== ApiKey.Produce && api.apiKey !== ApiKey.Fetch));
  });
});
