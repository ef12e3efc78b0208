import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { demoInitScript } from '../../../src/dev/demo.js';
import { repoRoot } from '../../support/cli.js';

describe("docker-compose's database init script", () => {
  it('is the demo scenario as generated (npx tsx scripts/generate-demo-initdb.ts after changing src/dev/demo.ts)', () => {
    expect(readFileSync(path.join(repoRoot, 'scripts/docker-initdb/01-demo.sql'), 'utf8')).toBe(demoInitScript());
  });

  it('is mounted into the PostgreSQL service', () => {
    const compose = parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { volumes?: string[] }> };
    expect(compose.services.postgres?.volumes).toContain('./scripts/docker-initdb:/docker-entrypoint-initdb.d:ro');
  });
});
