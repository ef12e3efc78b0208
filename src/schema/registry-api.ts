/**
 * The few Confluent Schema Registry REST calls tandem makes itself: a subject's versions and its
 * compatibility level, for the checks that run before a registration and in `schemas check`.
 */
import { TandemError } from '../errors.js';
import { parseCompatibilityMode, type CompatibilityMode } from './compatibility.js';

export interface RegistryConnection {
  url: string;
  auth?: { username: string; password: string };
}

export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const REQUEST_TIMEOUT_MS = 10_000;

export class RegistryApi {
  private readonly baseUrl: string;
  private readonly authorization?: string;

  constructor(connection: RegistryConnection) {
    // fetch refuses URLs with credentials: move `user:pass@` into the Authorization header.
    const url = new URL(connection.url);
    const username = connection.auth?.username ?? decodeURIComponent(url.username);
    const password = connection.auth?.password ?? decodeURIComponent(url.password);
    url.username = '';
    url.password = '';
    this.baseUrl = url.toString().replace(/\/$/, '');
    if (username) this.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  /** Where the registry is, without credentials: for messages. */
  get location(): string {
    return this.baseUrl;
  }

  /** Every live version of a subject, oldest first; empty when the subject does not exist. */
  async subjectVersions(subject: string): Promise<SubjectVersion[]> {
    const versions = await this.request<number[]>(`/subjects/${encodeURIComponent(subject)}/versions`, { notFound: 'empty' });
    if (!versions) return [];
    const found: SubjectVersion[] = [];
    for (const version of versions.sort((a, b) => a - b)) {
      const entry = await this.request<SubjectVersion>(`/subjects/${encodeURIComponent(subject)}/versions/${version}`, { notFound: 'empty' });
      if (entry) found.push(entry);
    }
    return found;
  }

  /** The registry's default compatibility level: also the cheapest way to prove it answers. */
  async globalCompatibilityLevel(): Promise<CompatibilityMode> {
    const level = await this.request<{ compatibilityLevel: string }>('/config', {});
    return parseCompatibilityMode(level!.compatibilityLevel);
  }

  /** The subject's compatibility level, else the registry's default. */
  async compatibilityLevel(subject: string): Promise<CompatibilityMode> {
    const own = await this.request<{ compatibilityLevel: string }>(`/config/${encodeURIComponent(subject)}`, { notFound: 'empty' });
    return own ? parseCompatibilityMode(own.compatibilityLevel) : this.globalCompatibilityLevel();
  }

  private async request<T>(path: string, options: { notFound?: 'empty' }): Promise<T | undefined> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        headers: { accept: CONTENT_TYPE, ...(this.authorization ? { authorization: this.authorization } : {}) },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new TandemError(`schema registry ${this.baseUrl} is unreachable (${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message})`, {
        fix: 'check registry.url in the connector and that the registry is running',
      });
    }
    if (response.status === 404 && options.notFound === 'empty') return undefined;
    const body = (await response.json().catch(() => ({}))) as T & { message?: string };
    if (!response.ok) {
      const fix = response.status === 401 ? 'check registry.auth (user name and password)' : 'check the registry log';
      throw new TandemError(`schema registry ${this.baseUrl} answered ${response.status} to GET ${path}: ${body.message ?? response.statusText}`, { fix });
    }
    return body;
  }
}
