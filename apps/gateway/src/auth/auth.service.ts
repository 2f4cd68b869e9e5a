import { Inject, Injectable } from '@nestjs/common';
import { findActiveApiKey, hashApiKey } from '@xray/db';
import { CONFIG, DATA_SOURCE } from '@xray/pipeline';
import type { AppConfig } from '@xray/platform';
import type { DataSource } from 'typeorm';
import type { Principal } from './principal';

const CACHE_MAX = 10_000;

/** Resolves API keys (by their sha256) to principals, with a short cache (API_KEY_CACHE_MS) so revocation applies within it. */
@Injectable()
export class AuthService {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();

  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async verify(apiKey: string): Promise<Principal | null> {
    const hash = hashApiKey(apiKey);
    const hit = this.cache.get(hash);
    if (hit && hit.until > Date.now()) return hit.principal;
    const key = await findActiveApiKey(this.ds, hash);
    const principal: Principal | null = key ? { clientId: key.clientId, apiKeyId: key.id, kind: key.kind } : null;
    if (this.config.apiKeyCacheMs === 0) return principal;
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(hash, { principal, until: Date.now() + this.config.apiKeyCacheMs });
    return principal;
  }

  async isAdminKey(apiKey: string): Promise<boolean> {
    return (await this.verify(apiKey))?.kind === 'admin';
  }
}
