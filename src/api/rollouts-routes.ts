/**
 * `/v1/rollouts`: create (or dry-run) a rollout, read rollouts and their members, and the operator
 * commands pause, resume, promote, abort and rollback (docs/api.md, "Rollouts"). Creating and
 * commanding need the operator role; reading, a viewer's. The logic lives in the rollouts module
 * (`RolloutService`); these routes parse, authorise and present.
 */
import { requestTraceContext } from './request-trace.js';
import { z } from 'zod';
import type { Rollout, RolloutMember } from '../domain/rollout.js';
import type { JsonObject } from '../domain/tenant.js';
import type { RolloutService } from '../rollouts/rollout-service.js';
import type { ApiApp, ApiContext } from './api-deps.js';
import { actorOf } from './api-deps.js';
import { parseLabelSelector } from './label-selector.js';
import { httpError } from './problem.js';
import {
  CreateRolloutQuery,
  CreateRolloutRequestSchema,
  ListRolloutsQuery,
  RolloutCommandParams,
  RolloutDryRunSchema,
  RolloutListSchema,
  RolloutMemberListSchema,
  RolloutMembersQuery,
  RolloutParams,
  RolloutSchema,
} from './schemas-rollouts.js';

const tags = ['rollouts'];

export function registerRolloutRoutes(app: ApiApp, ctx: ApiContext): void {
  const service = ctx.deps.rollouts;
  if (!service) return;
  createRolloutRoute(app, service);
  listRolloutsRoute(app, service);
  getRolloutRoute(app, service);
  rolloutMembersRoute(app, service);
  rolloutCommandRoute(app, service);
}

/** The rollout as the API shows it: its status computed from the members, secrets in the change masked. */
function rolloutView(service: RolloutService, rollout: Rollout) {
  return service.view(rollout);
}

function memberView(member: RolloutMember) {
  return {
    tenant: member.tenantName,
    tenantId: member.tenantId,
    wave: member.wave,
    state: member.state,
    fromGeneration: member.fromGeneration,
    toGeneration: member.toGeneration,
    rollbackGeneration: member.rollbackGeneration,
    merged: member.merged,
    error: member.error,
    startedAt: member.startedAt,
    finishedAt: member.finishedAt,
  };
}

function createRolloutRoute(app: ApiApp, service: RolloutService): void {
  const schema = {
    operationId: 'createRollout',
    summary: 'Create a rollout (or dry-run one)',
    description:
      'Resolves the selector once (tenants ordered by name), checks every member’s changed spec as a ' +
      'PATCH by the caller would be checked, cuts the waves and starts the rollout (201). A member ' +
      'whose changed spec would be refused makes the request fail (400 listing them) unless ' +
      '`skipInvalid=true` leaves such members out. `dryRun=true` answers the waves with their tenant ' +
      'names and the invalid members (200) and starts nothing. A tenant already held by an unfinished ' +
      'rollout is 409.',
    tags,
    querystring: CreateRolloutQuery,
    body: CreateRolloutRequestSchema,
    response: { 200: RolloutDryRunSchema, 201: RolloutSchema },
  };
  app.post('/v1/rollouts', { schema, config: { access: 'write' } }, async (request, reply) => {
    const body = request.body;
    const labelsText = body.selector.labels ?? null;
    const parsed = labelsText === null ? null : parseLabelSelector(labelsText);
    if (parsed && !parsed.ok) {
      throw httpError('VALIDATION_FAILED', 'bad label selector', {
        problems: [{ path: 'body.selector.labels', message: parsed.message }],
      });
    }
    const rolloutRequest = {
      description: body.description,
      selector: {
        labels: labelsText,
        names: body.selector.names ?? null,
        phases: body.selector.phases ?? null,
        plan: body.selector.plan ?? null,
      },
      labels: parsed?.ok ? parsed.requirements : [],
      change:
        'patch' in body.change
          ? { patch: body.change.patch as JsonObject }
          : { planRevision: body.change.planRevision },
      strategy: { ...body.strategy, waves: body.strategy.waves as Rollout['strategy']['waves'] },
      failurePolicy: body.failurePolicy,
    };
    const writer = { name: actorOf(request.principal), role: request.principal.role };
    if (request.query.dryRun === true) {
      const { members: _members, ...plan } = await service.plan(rolloutRequest, writer);
      return reply.code(200).send({ dryRun: true as const, ...plan });
    }
    const rollout = await service.create(rolloutRequest, writer, {
      skipInvalid: request.query.skipInvalid === true,
      trace: requestTraceContext(request),
    });
    reply.header('location', `/v1/rollouts/${rollout.id}`);
    return reply.code(201).send(await rolloutView(service, rollout));
  });
}

function listRolloutsRoute(app: ApiApp, service: RolloutService): void {
  const schema = {
    operationId: 'listRollouts',
    summary: 'List rollouts',
    description: 'Newest first, optionally only those in one `phase`. Paged by `cursor`.',
    tags,
    querystring: ListRolloutsQuery,
    response: { 200: RolloutListSchema },
  };
  app.get('/v1/rollouts', { schema }, async (request) => {
    const page = await service.list(request.query);
    const items = [];
    for (const rollout of page.items) items.push(await rolloutView(service, rollout));
    return { items, nextCursor: page.nextCursor };
  });
}

function getRolloutRoute(app: ApiApp, service: RolloutService): void {
  const schema = {
    operationId: 'getRollout',
    summary: 'Get a rollout',
    description:
      'The rollout with its status: phase, current wave, halt reason, counts and per-wave progress.',
    tags,
    params: RolloutParams,
    response: { 200: RolloutSchema },
  };
  app.get('/v1/rollouts/:id', { schema }, async (request) =>
    rolloutView(service, await service.require(request.params.id)),
  );
}

function rolloutMembersRoute(app: ApiApp, service: RolloutService): void {
  const schema = {
    operationId: 'listRolloutTenants',
    summary: "List a rollout's tenants",
    description:
      'The members in name order, optionally only those in one `state` (`failed`, say), each with its ' +
      'wave, the generations the rollout wrote and its error. Paged by `cursor`.',
    tags,
    params: RolloutParams,
    querystring: RolloutMembersQuery,
    response: { 200: RolloutMemberListSchema },
  };
  app.get('/v1/rollouts/:id/tenants', { schema }, async (request) => {
    const rollout = await service.require(request.params.id);
    const page = await service.members(rollout.id, request.query);
    return { items: page.items.map(memberView), nextCursor: page.nextCursor };
  });
}

function rolloutCommandRoute(app: ApiApp, service: RolloutService): void {
  const schema = {
    operationId: 'commandRollout',
    summary: 'Pause, resume, promote, abort or roll back a rollout',
    description:
      '`pause` stops starting members (in-flight ones finish); `resume` continues a paused or halted ' +
      'rollout (a halted one accepts its failures so far); `promote` continues after a wave listed in ' +
      '`pauseAfterWaves`; `abort` ends the rollout, leaving changed members as they are; `rollback` ' +
      'returns every member the rollout changed to the spec it had before, as a new generation. A ' +
      'command the phase does not allow is 409 INVALID_TRANSITION; repeating one is harmless.',
    tags,
    params: RolloutCommandParams,
    body: z.strictObject({}).nullish(),
    response: { 200: RolloutSchema },
  };
  app.post('/v1/rollouts/:id/:command', { schema, config: { access: 'write' } }, async (request) => {
    const rollout = await service.command(
      request.params.id,
      request.params.command,
      requestTraceContext(request),
    );
    return rolloutView(service, rollout);
  });
}
