import { describe, expect, it } from 'vitest';
import { PoisonEvent } from '../../../src/translate/event-reader.js';
import { backoffMs, classifyFailure, type FailureClass } from '../../../src/translate/failures.js';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('failure classes', () => {
  const table: [string, unknown, FailureClass][] = [
    ['connection lost (pg)', new Error('Connection terminated unexpectedly'), 'transient'],
    ['connection refused (node)', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'transient'],
    ['connection failure 08006', pgError('08006'), 'transient'],
    ['serialization failure', pgError('40001'), 'transient'],
    ['deadlock', pgError('40P01'), 'transient'],
    ['lock timeout', pgError('55P03'), 'transient'],
    ['statement timeout', pgError('57014'), 'transient'],
    ['server shutting down', pgError('57P01'), 'transient'],
    ['too many connections', pgError('53300'), 'transient'],
    ['registry unreachable', Object.assign(new Error('registry down'), { transient: true }), 'transient'],
    ['foreign key: parent not there yet', pgError('23503'), 'parked'],
    ['not null violation', pgError('23502'), 'poison'],
    ['unique violation', pgError('23505'), 'poison'],
    ['check violation', pgError('23514'), 'poison'],
    ['numeric out of range', pgError('22003'), 'poison'],
    ['invalid text for a type', pgError('22P02'), 'poison'],
    ['undecodable message', new PoisonEvent('bad frame'), 'poison'],
    ['undefined column (mapping broken)', pgError('42703'), 'fatal'],
    ['undefined function', pgError('42883'), 'fatal'],
    ['permission denied', pgError('42501'), 'fatal'],
    ['unknown SQLSTATE', pgError('XX000'), 'fatal'],
    ['unknown error', new Error('something else'), 'fatal'],
    ['not an error', undefined, 'fatal'],
  ];
  it.each(table)('%s → %s', (_name, error, expected) => {
    expect(classifyFailure(error)).toBe(expected);
  });

  it('backs off exponentially with jitter up to the ceiling', () => {
    expect(backoffMs(1, 10_000, () => 0)).toBe(50);
    expect(backoffMs(1, 10_000, () => 1)).toBe(100);
    expect(backoffMs(4, 10_000, () => 1)).toBe(800);
    expect(backoffMs(30, 10_000, () => 1)).toBe(10_000);
  });
});
