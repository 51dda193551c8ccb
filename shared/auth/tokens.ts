/**
 * Bearer tokens with roles. Tokens are random (`fo_` + 32 bytes base64url) and stored only as a
 * SHA-256 hash (high-entropy tokens need no slow hash); the plain token is shown once, when it is
 * made. `admin` may do everything; `operator` manages destinations and reads presets/platforms.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../errors/index.ts';
import { Secret } from '../secrets/secret.ts';
import { isConditionalCheckFailed, scanAll } from '../store/dynamo.ts';

export type Role = 'admin' | 'operator';

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

export class TokenStore {
  private readonly cache = new Map<string, { principal: Principal | null; at: number }>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cacheMs = 30_000,
  ) {}

  /** Resolves a presented token to its principal, or null. */
  async authenticate(token: string): Promise<Principal | null> {
    const hash = hashToken(token);
    const hit = this.cache.get(hash);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.principal;
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { tokenHash: hash } }));
    const rec = out.Item as TokenRecord | undefined;
    // Compare hashes in constant time (the lookup already matched; this guards against a store that matches loosely).
    const principal =
      rec && timingSafeEqual(Buffer.from(rec.tokenHash), Buffer.from(hash)) ? { tokenId: rec.tokenId, name: rec.name, role: rec.role } : null;
    this.cache.set(hash, { principal, at: Date.now() });
    return principal;
  }

  /** Stores a token's hash; returns false if that exact token is already stored. */
  async put(token: Secret, p: { tokenId?: string; name: string; role: Role }): Promise<TokenRecord | null> {
    const rec: TokenRecord = {
      tokenHash: hashToken(token.reveal()),
      tokenId: p.tokenId ?? randomUUID(),
      name: p.name,
      role: p.role,
      createdAt: new Date().toISOString(),
    };
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: rec, ConditionExpression: 'attribute_not_exists(tokenHash)' }));
      return rec;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return null;
      throw err;
    }
  }

  async list(): Promise<TokenRecord[]> {
    return (await scanAll<TokenRecord>(this.doc, { TableName: this.tableName })).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revoke(tokenId: string): Promise<void> {
    const rec = (await this.list()).find((t) => t.tokenId === tokenId);
    if (!rec) throw new AppError('TOKEN_NOT_FOUND', `No token with id ${tokenId}.`);
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { tokenHash: rec.tokenHash } }));
    this.cache.clear();
  }

  async hasAdmin(): Promise<boolean> {
    return (await this.list()).some((t) => t.role === 'admin');
  }
}
