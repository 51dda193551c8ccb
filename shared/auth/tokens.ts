/**
 * Bearer tokens with roles. Tokens are random (`fo_` + 32 bytes base64url) and stored only as a
 * SHA-256 hash (high-entropy tokens need no slow hash); the plain token is shown once, when it is
 * made. `admin` may do everything; `operator` manages destinations and reads presets/platforms;
 * `metrics` may only read the Prometheus endpoint (`GET /metrics`, local runtime), nothing else.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../errors/index.ts';
import { Secret } from '../secrets/secret.ts';
import { isConditionalCheckFailed, scanAll } from '../store/dynamo.ts';

export type Role = 'admin' | 'operator' | 'metrics';

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

export interface TokenRecord extends Principal {
  tokenHash: string;
  createdAt: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateToken(): Secret {
  return new Secret(`fo_${randomBytes(32).toString('base64url')}`);
}

export interface TokenStoreOptions {
  /**
   * How long a valid token's principal is remembered, in ms; 0 (the default) looks every token up
   * on every request. Only valid tokens are remembered (a wrong token costs a lookup, and failed
   * attempts are limited per client address instead), and `revoke` forgets them at once, so the
   * cache is safe only where this instance sees every revocation: the local runtime, where one
   * store serves the whole API. Lambda instances cannot be told, so the aws runtime keeps it 0.
   */
  positiveCacheMs?: number;
  /** Most principals remembered at once (default 1,000). */
  maxCached?: number;
}

export class TokenStore {
  private readonly cache: LRUCache<string, Principal> | undefined;
  private readonly revokedListeners = new Set<(tokenId: string) => void>();
  /** Bumped by every delete: a lookup that overlapped one does not fill the cache (it may have read the deleted record). */
  private epoch = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    opts: TokenStoreOptions = {},
  ) {
    const ttl = opts.positiveCacheMs ?? 0;
    this.cache = ttl > 0 ? new LRUCache<string, Principal>({ max: opts.maxCached ?? 1_000, ttl }) : undefined;
  }

  /** Resolves a presented token to its principal, or null. */
  async authenticate(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const hit = this.cache?.get(hash);
    if (hit) return hit;
    const epoch = this.epoch;
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { tokenHash: hash } }));
    const rec = out.Item as TokenRecord | undefined;
    // Compare hashes in constant time (the lookup already matched; this guards against a store that matches loosely).
    if (!rec || !timingSafeEqual(Buffer.from(rec.tokenHash), Buffer.from(hash))) return null;
    const principal: Principal = { tokenId: rec.tokenId, name: rec.name, role: rec.role };
    if (epoch === this.epoch) this.cache?.set(hash, principal);
    return principal;
  }

  /** The principal of a token this store has recently verified and not seen revoked, without a lookup. */
  remembered(token: string): Principal | undefined {
    return this.cache?.get(hashToken(token));
  }

  /** Stores a token's hash; returns null if that exact token is already stored. */
  async put(token: Secret, p: { tokenId?: string; name: string; role: Role }): Promise<TokenRecord | null> {
    const rec = this.record(token, p);
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: rec, ConditionExpression: 'attribute_not_exists(tokenHash)' }));
      return rec;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return null;
      throw err;
    }
  }

  /**
   * Makes `token` the one token with id `p.tokenId`: stores it, then deletes every other token
   * with that id (FANOUT_ADMIN_TOKEN at start-up: a new value replaces the old one, which stops
   * working at once).
   */
  async replace(token: Secret, p: { tokenId: string; name: string; role: Role }): Promise<TokenRecord> {
    const rec = this.record(token, p);
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: rec }));
    for (const old of await this.list()) {
      if (old.tokenId === p.tokenId && old.tokenHash !== rec.tokenHash) await this.delete(old);
    }
    return rec;
  }

  async list(): Promise<TokenRecord[]> {
    return (await scanAll<TokenRecord>(this.doc, { TableName: this.tableName })).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Deletes the token(s) with this id; they stop working at once, and `onRevoked` listeners are told. */
  async revoke(tokenId: string): Promise<void> {
    const recs = (await this.list()).filter((t) => t.tokenId === tokenId);
    if (recs.length === 0) throw new AppError('TOKEN_NOT_FOUND', `No token with id ${tokenId}.`);
    for (const rec of recs) await this.delete(rec);
    for (const fn of this.revokedListeners) fn(tokenId);
  }

  /** Calls `fn` with the id of every token revoked through this store (open event streams close). */
  onRevoked(fn: (tokenId: string) => void): () => void {
    this.revokedListeners.add(fn);
    return () => this.revokedListeners.delete(fn);
  }

  async hasAdmin(): Promise<boolean> {
    return (await this.list()).some((t) => t.role === 'admin');
  }

  private record(token: Secret, p: { tokenId?: string; name: string; role: Role }): TokenRecord {
    return { tokenHash: hashToken(token.reveal()), tokenId: p.tokenId ?? randomUUID(), name: p.name, role: p.role, createdAt: new Date().toISOString() };
  }

  private async delete(rec: TokenRecord): Promise<void> {
    // Forget it before and after the delete, so no lookup that overlapped it can re-cache it.
    this.epoch++;
    this.cache?.delete(rec.tokenHash);
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { tokenHash: rec.tokenHash } }));
    this.epoch++;
    this.cache?.delete(rec.tokenHash);
  }
}
