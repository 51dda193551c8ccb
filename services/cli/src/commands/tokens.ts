/**
 * `fanout token create|list|revoke` (admins). A created token is the one secret the CLI prints on
 * purpose, once: alone on stdout, so `TOKEN=$(fanout token create --name ci)` captures it, with the
 * notes on stderr. The token the CLI itself authenticates with is never printed.
 */
import { Option, type Command } from 'commander';
import type { Ctx } from '../context.ts';
import { confirm } from '../prompt.ts';
import type { Token } from '../types.ts';

export function registerTokenCommands(program: Command, ctx: () => Ctx): void {
  const token = program.command('token').description('API tokens (admins): create, list, revoke');

  token
    .command('create')
    .description('create a token; its value is shown once')
    .requiredOption('--name <name>', 'who or what it is for')
    .addOption(new Option('--role <role>', 'operator: destinations; admin: everything; metrics: only GET /metrics (Prometheus)').choices(['operator', 'admin', 'metrics']).default('operator'))
    .action(async (o: { name: string; role: string }) => {
      const c = ctx();
      const { body } = await c.api().request<Token & { token: string }>('POST', '/api/admin/tokens', { body: { name: o.name, role: o.role } });
      if (c.io.json) return c.io.printJson(body);
      c.io.err(`Token "${body.name}" (${body.role}, id ${body.tokenId}). Shown only this once; store it now:`);
      c.io.out(body.token);
    });

  token
    .command('list')
    .alias('ls')
    .description('list tokens (never their values)')
    .action(async () => {
      const c = ctx();
      const { body } = await c.api().request<{ tokens: Token[] }>('GET', '/api/admin/tokens');
      if (c.io.json) return c.io.printJson(body.tokens);
      c.io.table(
        ['ID', 'NAME', 'ROLE', 'CREATED'],
        body.tokens.map((t) => [t.tokenId, t.name, t.role, t.createdAt]),
        'No tokens.',
      );
    });

  token
    .command('revoke')
    .aliases(['rm'])
    .argument('<id>', 'token id (`fanout token list`)')
    .description('revoke a token: it stops working at once')
    .option('-y, --yes', 'do not ask (required when not at a terminal)')
    .action(async (id: string, o: { yes?: boolean }) => {
      const c = ctx();
      c.api().requireToken();
      await confirm(`Revoke token ${id}?`, o.yes);
      await c.api().request('DELETE', `/api/admin/tokens/${encodeURIComponent(id)}`);
      if (c.io.json) c.io.printJson({ tokenId: id, revoked: true });
      else c.io.out(`token ${id} revoked`);
    });
}
