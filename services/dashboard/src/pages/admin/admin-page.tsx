/**
 * The admin dashboard (administrators): infrastructure, platforms and presets, API tokens, costs
 * (the cost-tracker), notifications (the notifier's channels and deliveries), and the place the next
 * issue fills (the backup input: input redundancy). Loaded only when an admin opens it.
 */
import type { FunctionComponent } from 'preact';
import { path } from '../../router.ts';
import { CatalogPage } from './catalog.tsx';
import { CostsPage } from './costs.tsx';
import { InfrastructurePage } from './infrastructure.tsx';
import { NotificationsPage } from './notifications.tsx';
import { TokensPage } from './tokens.tsx';

interface Section {
  href: string;
  title: string;
  page: FunctionComponent;
}

function ComingSoon({ title, what, issue }: { title: string; what: string; issue: string }) {
  return (
    <section class="card" aria-labelledby="coming-title">
      <h2 id="coming-title">{title}</h2>
      <p class="empty">
        Coming with {issue}. {what}
      </p>
    </section>
  );
}

/** The admin sections; a later issue replaces its placeholder with its page here. */
export const SECTIONS: Section[] = [
  { href: '/admin', title: 'Infrastructure', page: InfrastructurePage },
  { href: '/admin/catalog', title: 'Platforms & presets', page: CatalogPage },
  { href: '/admin/tokens', title: 'API tokens', page: TokensPage },
  { href: '/admin/costs', title: 'Costs', page: CostsPage },
  { href: '/admin/notifications', title: 'Notifications', page: NotificationsPage },
  { href: '/admin/backup-input', title: 'Backup input', page: () => <ComingSoon title="Backup input" issue="input redundancy (issue 15)" what="A second SRT input with automatic failover." /> },
];

export function AdminPage() {
  const p = path.value.replace(/\/$/, '') || '/admin';
  const section = SECTIONS.find((s) => s.href === p) ?? SECTIONS[0]!;
  const Page = section.page;
  return (
    <>
      <h1 class="page-title">Admin</h1>
      <nav class="subnav" aria-label="Admin sections">
        {SECTIONS.map((s) => (
          <a key={s.href} href={s.href} aria-current={s === section ? 'page' : undefined}>
            {s.title}
          </a>
        ))}
      </nav>
      <Page />
    </>
  );
}
