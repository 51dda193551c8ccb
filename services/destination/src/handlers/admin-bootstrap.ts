/**
 * The handler that makes the first admin token on AWS (no console to print it to); its Lambda
 * entry is `adminBootstrap` of shared/runtimes/aws/destination.ts. Invoked by the operator, once,
 * after the first deploy:
 *
 *   npx serverless invoke --stage dev --function adminBootstrap            # {} → the token, once
 *   npx serverless invoke --stage dev --function adminBootstrap --data '{"recover": true}'
 *
 * The token travels only in the invoke response (Lambda does not log return values; this handler
 * logs the token id only). It has no event source: nothing but an explicit invoke runs it, and its
 * role may only read and add token records (serverless.yml, AdminBootstrapRole).
 */
import { TokenStore } from '../../../../shared/auth/tokens.ts';
import { bootstrapAdminToken } from '../app/admin-bootstrap.ts';
import type { DestinationDeps } from '../deps.ts';

export interface AdminBootstrapInput {
  recover?: boolean;
}

export type AdminBootstrapOutput = { created: true; tokenId: string; name: string; token: string; note: string } | { created: false; reason: string };

/** Needs only the store and the settings: its role may read and add token records, nothing else. */
export function createAdminBootstrapHandler(deps: Pick<DestinationDeps, 'doc' | 'config' | 'log'>) {
  return async (event: AdminBootstrapInput | null | undefined): Promise<AdminBootstrapOutput> => {
    const tokens = new TokenStore(deps.doc, deps.config.tableTokens);
    const result = await bootstrapAdminToken(tokens, { recover: event?.recover === true, logger: deps.log });
    if (!result.created) return result;
    return {
      created: true,
      tokenId: result.tokenId,
      name: result.name,
      token: result.token.reveal(),
      note: 'Shown once: only its hash is stored. Use it as "Authorization: Bearer <token>"; create operator tokens with POST /api/admin/tokens and revoke this one (DELETE /api/admin/tokens/{tokenId}) when you have another admin token.',
    };
  };
}
