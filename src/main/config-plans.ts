/**
 * Plans declared in the configuration (`plans:` in lessor.yaml) are upserted at start, so plans can
 * live in Git: a new one is created, a changed one gets a new revision, an unchanged one is left
 * alone. Each is checked as `POST /v1/plans` checks it; a plan that does not pass stops the start
 * with a configuration error naming it. Tenants stay on their pinned revisions.
 */
import type { Logger } from 'pino';
import { resolvePlan, type PlanSettings } from '../api/plans-routes.js';
import { errorMessage, ValidationError } from '../domain/errors.js';
import type { Store } from '../store/store.js';
import { ConfigError } from './config/config-error.js';
import type { LessorConfig } from './config/load-config.js';

export const CONFIG_ACTOR = 'config';

export async function upsertConfigPlans(
  plans: LessorConfig['plans'],
  deps: { readonly store: Pick<Store, 'plans'>; readonly logger: Logger } & PlanSettings,
): Promise<void> {
  const checked = plans.map((plan, i) => {
    try {
      const { name, ...body } = plan;
      return { name, content: resolvePlan(deps, structuredClone(body) as Parameters<typeof resolvePlan>[1]) };
    } catch (error) {
      const problems =
        error instanceof ValidationError && error.problems.length > 0
          ? error.problems.map((p) => ({ path: `plans.${i}.${p.path}`, message: p.message }))
          : [{ path: `plans.${i}`, message: errorMessage(error) }];
      throw new ConfigError(problems);
    }
  });
  for (const { name, content } of checked) {
    const { plan, changed } = await deps.store.plans.upsert({ name, actor: CONFIG_ACTOR, ...content });
    if (changed)
      deps.logger.info({ plan: name, revision: plan.revision }, 'plan from the configuration stored');
  }
}
