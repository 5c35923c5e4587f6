/** Every view of the dashboard, in navigation order. A new view: its module, and one line here. */
import type { RouteDef } from './lib/route-def.js';
import { auditRoutes } from './views/audit.js';
import { deadLetterRoutes } from './views/dead-letters.js';
import { overviewRoutes } from './views/overview.js';
import { planRoutes } from './views/plans.js';
import { providerRoutes } from './views/providers.js';
import { rolloutRoutes } from './views/rollouts.js';
import { runRoutes } from './views/runs.js';
import { tenantRoutes } from './views/tenants.js';
import { webhookRoutes } from './views/webhooks.js';

export const ROUTES: readonly RouteDef[] = [
  ...overviewRoutes,
  ...tenantRoutes,
  ...rolloutRoutes,
  ...planRoutes,
  ...runRoutes,
  ...webhookRoutes,
  ...deadLetterRoutes,
  ...providerRoutes,
  ...auditRoutes,
];
