import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRegistry } from '../../../src/doctor/checks.js';
import { startRegistry, type RunningRegistry } from '../../../src/embedded/registry/index.js';
import { runTandem } from '../../support/cli.js';
import { testConnector, writeTestConnectorFile } from '../../support/connector.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';

const PASSWORD = 'r3gistry-s3cret';

/** Serves the registry under /registry/, as a registry behind a path-routing gateway is. */
async function startPrefixProxy(target: string): Promise<{ url: string; server: Server }> {
  const upstream = new URL(target);
  const server = createServer((incoming, outgoing) => {
    if (!incoming.url?.startsWith('/registry/')) {
      outgoing.writeHead(404).end('{"error_code":404,"message":"not under /registry/"}');
      return;
    }
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url.slice('/registry'.length), headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/registry/`, server };
}

describe('doctor: schema registry check', () => {
  let db: TestDatabase;
  let registry: RunningRegistry;
  let proxy: { url: string; server: Server };
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase('doctor_registry');
    dataDir = mkdtempSync(path.join(tmpdir(), 'tandem-registry-'));
    registry = await startRegistry({ port: 0, dataDir, basicAuth: `ci:${PASSWORD}` });
    proxy = await startPrefixProxy(registry.url);
  });

  afterAll(async () => {
    proxy?.server.close();
    await registry?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const connectorWith = (registrySection: Record<string, unknown>) =>
    testConnector({ name: 'doctor-registry', sourceUrl: db.url, tables: ['legacy.t'], brokers: ['127.0.0.1:1'], registryUrl: 'unused', extra: { registry: registrySection } });

  it('passes with credentials in the URL (https://user:pass@host form)', async () => {
    const withUserInfo = registry.url.replace('http://', `http://ci:${PASSWORD}@`);
    const result = await checkRegistry(connectorWith({ url: withUserInfo }));
    expect(result).toEqual({ check: 'schema registry reachable', status: 'ok', detail: `${registry.url} (compatibility BACKWARD)` });
  });

  it('keeps the path prefix of the registry URL, with registry.auth', async () => {
    const result = await checkRegistry(connectorWith({ url: proxy.url, auth: { username: 'ci', password: PASSWORD } }));
    expect(result).toMatchObject({ status: 'ok', detail: `${proxy.url.replace(/\/$/, '')} (compatibility BACKWARD)` });
  });

  it('fails on wrong credentials, naming the fix, without the password', async () => {
    const result = await checkRegistry(connectorWith({ url: registry.url.replace('http://', 'http://ci:wrong-password@') }));
    expect(result.status).toBe('fail');
    expect(result.detail).toContain(`schema registry ${registry.url} answered 401`);
    expect(result.fix).toContain('registry.auth');
    expect(JSON.stringify(result)).not.toContain('wrong-password');
  });

  it('never prints the registry password in its table or JSON, also when the registry is unreachable', async () => {
    const unreachable = `http://ci:${PASSWORD}@127.0.0.1:1/registry/`;
    const file = writeTestConnectorFile({ name: 'doctor-registry', sourceUrl: db.url, tables: ['legacy.t'], brokers: ['127.0.0.1:1'], registryUrl: unreachable });
    for (const format of ['text', 'json']) {
      const result = await runTandem(['doctor', '--config', file, '--format', format]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toMatch(/schema registry reachable/);
      expect(result.stdout).toContain('http://127.0.0.1:1/registry is unreachable');
      expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    }
  });
});
