/**
 * The first admin token, in both runtimes, from one rule: when no admin token exists, make one,
 * store only its hash, and hand the plain token to whoever asked, once.
 *
 *   local: the runtime asks at start-up (unless FANOUT_ADMIN_TOKEN is set) and prints it once;
 *   AWS:   nobody watches a console, so the operator asks: a one-off
 *          `serverless invoke --function adminBootstrap` returns it to their terminal only
 *          (docs/deploy-aws.md, ADR 0009). `{"recover": true}` makes another admin token even
 *          when one exists, for a lost token; whoever may invoke the function already
 *          administers the account, so this grants nothing new.
 *
 * The token is never logged: the log line carries the token id only.
 */
import { generateToken, type TokenStore } from '../../../../shared/auth/tokens.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { Secret } from '../../../../shared/secrets/secret.ts';

export type BootstrapResult = { created: true; tokenId: string; name: string; token: Secret } | { created: false; reason: string };

export async function bootstrapAdminToken(tokens: TokenStore, opts: { recover?: boolean; name?: string; logger?: Logger } = {}): Promise<BootstrapResult> {
  if (!opts.recover && (await tokens.hasAdmin())) {
    return { created: false, reason: 'An admin token already exists. Use it to create more (POST /api/admin/tokens), or invoke with {"recover": true} if it is lost.' };
  }
  const token = generateToken();
  const name = opts.name ?? (opts.recover ? `admin (recovery ${new Date().toISOString().slice(0, 10)})` : 'admin (bootstrap)');
  const rec = await tokens.put(token, { name, role: 'admin' });
  if (!rec) throw new Error('a freshly generated token collided with a stored one'); // 256 random bits: does not happen
  opts.logger?.info('admin token created; only its hash is stored', { tokenId: rec.tokenId, name, recover: opts.recover === true });
  return { created: true, tokenId: rec.tokenId, name, token };
}
