import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildProgram } from '../../../src/cli/main.js';
import { repoRoot } from '../../support/cli.js';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
}

const compose = parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const tandemServices = Object.entries(compose.services).filter(([, service]) => service.build === '.');

describe('docker-compose.yml', () => {
  it('describes the production stack: PostgreSQL with logical replication, Kafka in KRaft mode, a schema registry', () => {
    expect(compose.services.postgres?.command).toContain('wal_level=logical');
    expect(compose.services.postgres?.image).toMatch(/^postgres:17/);
    expect(compose.services.kafka?.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(compose.services['schema-registry']?.image).toMatch(/schema-registry/);
  });

  it('pins the Apache Kafka version the tests run against (scripts/apache-kafka.sh and its pom)', () => {
    const script = readFileSync(path.join(repoRoot, 'scripts/apache-kafka.sh'), 'utf8');
    const pinned = /^readonly KAFKA_VERSION=(\d+\.\d+\.\d+)$/m.exec(script)?.[1];
    expect(pinned, 'scripts/apache-kafka.sh pins KAFKA_VERSION=<x.y.z>').toBeDefined();
    expect(compose.services.kafka?.image).toBe(`apache/kafka:${pinned}`);
    const pom = readFileSync(path.join(repoRoot, 'scripts/apache-kafka/pom.xml'), 'utf8');
    expect(/<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1]).toBe(pinned);
  });

  it('runs a real tandem CLI command with known options in every tandem service', () => {
    expect(tandemServices.length).toBeGreaterThan(0);
    const program = buildProgram();
    const globalFlags = program.options.flatMap((option) => [option.long, option.short]);
    for (const [name, service] of tandemServices) {
      const [commandName, ...args] = service.command ?? [];
      const command = program.commands.find((candidate) => candidate.name() === commandName);
      expect(command, `service ${name} runs "${commandName}", which is not a tandem command`).toBeDefined();
      const flags = [...globalFlags, ...command!.options.flatMap((option) => [option.long, option.short])];
      for (const arg of args.filter((item) => item.startsWith('-'))) {
        expect(flags, `service ${name}: ${commandName} has no option ${arg}`).toContain(arg.split('=')[0]);
      }
      expect(service.environment?.TANDEM_SOURCE_URL, `service ${name} needs the connection settings`).toBeDefined();
    }
  });
});
