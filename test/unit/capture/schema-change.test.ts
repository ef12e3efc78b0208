import { describe, expect, it } from 'vitest';
import { schemaChangeFix } from '../../../src/capture/schema-change.js';

describe('the fix of a schema the registry refused', () => {
  it('offers relaxing the compatibility alone when there is no compatible alternative, as a whole sentence', () => {
    const fix = schemaChangeFix([]);
    expect(fix).toBe("relax the subject's compatibility in the registry (PUT /config/<subject>); then restart capture (nothing after the change was acknowledged)");
    expect(fix).not.toMatch(/^or /);
  });

  it('lists each alternative, then relaxing the compatibility, joined by "or"', () => {
    expect(schemaChangeFix(['add a as nullable', 'keep b as integer'])).toBe(
      "add a as nullable; or keep b as integer; or relax the subject's compatibility in the registry (PUT /config/<subject>); then restart capture (nothing after the change was acknowledged)",
    );
  });
});
