import assert from 'node:assert/strict';
import { validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { backends } from '../store/testing/test-databases.js';
import { TAGS } from './openapi.js';
import { SCHEMA_EXAMPLES } from './openapi-examples.js';
import { apiSuite } from './testing/api-harness.js';

/** Every endpoint of the API (docs/api.md; the document itself and /docs excepted). */
const SPEC_ROUTES: readonly [string, string][] = [
  ['post', '/v1/tenants'],
  ['get', '/v1/tenants'],
  ['get', '/v1/tenants/{idOrName}'],
  ['put', '/v1/tenants/{idOrName}'],
  ['patch', '/v1/tenants/{idOrName}'],
  ['delete', '/v1/tenants/{idOrName}'],
  ['post', '/v1/tenants/{idOrName}/retry'],
  ['get', '/v1/tenants/{idOrName}/events'],
  ['get', '/v1/tenants/{idOrName}/executions'],
  ['get', '/v1/compute/executions/{executionId}'],
  ['get', '/v1/workflows/runs/{runId}'],
  ['get', '/v1/compute/providers'],
  ['get', '/v1/compute/providers/{type}/schema'],
  ['get', '/v1/callbacks'],
  ['post', '/v1/callbacks/{id}/redrive'],
  ['get', '/v1/events'],
  ['get', '/v1/audit'],
  ['post', '/v1/webhooks'],
  ['get', '/v1/webhooks'],
  ['get', '/v1/webhooks/{id}'],
  ['patch', '/v1/webhooks/{id}'],
  ['delete', '/v1/webhooks/{id}'],
  ['post', '/v1/webhooks/{id}/rotate-secret'],
  ['post', '/v1/webhooks/{id}/test'],
  ['get', '/v1/webhooks/{id}/deliveries'],
  ['get', '/v1/webhooks/{id}/deliveries/{deliveryId}'],
  ['post', '/v1/webhooks/{id}/deliveries/{deliveryId}/retry'],
  ['get', '/healthz'],
  ['get', '/readyz'],
  ['get', '/metrics'],
];

type Operation = {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  'x-lessor-roles'?: string[];
  responses: Record<string, { description: string; content?: Record<string, unknown>; headers?: object }>;
  requestBody?: { required?: boolean; content: Record<string, unknown> };
};
type Doc = {
  openapi: string;
  info: { contact?: object };
  servers?: { url: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { examples?: unknown[] }> };
};

/** `component: message` for every example of `doc` that its component schema rejects. */
function invalidExamples(doc: Doc): string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  formatsModule.default(ajv);
  const id = 'https://lessor.invalid/openapi.json';
  ajv.addSchema({ $id: id, components: doc.components });
  return Object.entries(doc.components.schemas).flatMap(([name, schema]) =>
    (schema.examples ?? []).flatMap((example) => {
      const check = ajv.getSchema(`${id}#/components/schemas/${name}`)!;
      return check(example) ? [] : [`${name}: ${ajv.errorsText(check.errors)}`];
    }),
  );
}

function operations(doc: Doc): [string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]): [string, Operation] => [`${method} ${path}`, op]),
  );
}

const backend = backends()[0];
if (backend) {
  apiSuite(backend, 'OpenAPI document', (h) => {
    let doc: Doc;
    h.test('served open at /openapi.json; a valid OpenAPI 3.1 document', async () => {
      const res = await h.inject({ method: 'GET', url: '/openapi.json', token: null });
      assert.equal(res.statusCode, 200);
      doc = res.json();
      assert.equal(doc.openapi, '3.1.0');
      const result = await validate(structuredClone(doc) as never);
      assert.ok(result.valid, JSON.stringify(result.valid ? [] : result.errors, null, 2));
    });

    h.test('lists every route', async () => {
      const missing = SPEC_ROUTES.filter(([method, path]) => !doc.paths[path]?.[method]);
      assert.deepEqual(missing, []);
    });

    h.test('named components; errors as problem+json; open routes without security', async () => {
      for (const name of [
        'Tenant',
        'TenantSpec',
        'TenantStatus',
        'TenantList',
        'Problem',
        'CreateTenantRequest',
        'TenantSpecRequest',
        'TenantPatch',
        'ComputeExecutionWithHistory',
        'WorkflowRun',
        'Callback',
      ]) {
        assert.ok(doc.components.schemas[name], `component ${name}`);
      }
      assert.ok(!Object.keys(doc.components.schemas).some((n) => n.endsWith('Input')));
      assert.ok(!JSON.stringify(doc).includes('Input"'), 'no reference to a pre-rename name is left');
      const create = doc.paths['/v1/tenants']!.post!;
      assert.deepEqual(Object.keys(create.responses['400']!.content!), ['application/problem+json']);
      assert.ok(create.responses['422'] && create.responses['201']);
      assert.ok(
        doc.paths['/v1/tenants/{idOrName}']!.patch!.requestBody!.content['application/merge-patch+json'],
      );
      assert.ok(doc.paths['/v1/events']!.get!.responses['200']!.content!['text/event-stream']);
      assert.deepEqual(doc.paths['/healthz']!.get!.security, []);
      assert.equal(
        doc.paths['/v1/tenants']!.get!.security,
        undefined,
        'inherits the global bearer requirement',
      );
    });

    h.test('operations: summary, description, declared tags, roles; servers and contact set', async () => {
      const declared = new Set(doc.tags?.map((t) => t.name));
      assert.deepEqual(
        [...declared],
        TAGS.map((t) => t.name),
      );
      assert.ok(doc.servers?.length && doc.info.contact, 'servers and info.contact are set');
      for (const [name, op] of operations(doc)) {
        assert.ok(op.summary && op.description, `${name}: summary and description`);
        assert.ok(op.tags?.length && op.tags.every((t) => declared.has(t)), `${name}: declared tags`);
        assert.ok(Array.isArray(op['x-lessor-roles']), `${name}: x-lessor-roles`);
        const described = Object.values(op.responses).every((r) => r.description !== 'Default Response');
        assert.ok(described, `${name}: every response described`);
      }
      const roles = (method: string, path: string) => doc.paths[path]![method]!['x-lessor-roles'];
      assert.deepEqual(roles('get', '/v1/tenants'), ['admin', 'operator', 'viewer']);
      assert.deepEqual(roles('post', '/v1/tenants'), ['admin', 'operator']);
      assert.deepEqual(roles('get', '/v1/audit'), ['admin']);
      assert.deepEqual(roles('get', '/healthz'), []);
      assert.match(doc.paths['/v1/audit']!.get!.description!, /Roles: `admin`\.$/);
    });

    h.test('a body that may be left out is not required; the others are', async () => {
      const body = (method: string, path: string) => doc.paths[path]![method]!.requestBody!;
      assert.equal(body('post', '/v1/tenants/{idOrName}/retry').required, false);
      assert.equal(body('post', '/v1/callbacks/{id}/redrive').required, false);
      assert.deepEqual(body('post', '/v1/tenants/{idOrName}/retry').content['application/json'], {
        schema: { type: 'object', properties: {}, additionalProperties: false },
      });
      for (const [method, path] of [
        ['post', '/v1/tenants'],
        ['put', '/v1/tenants/{idOrName}'],
        ['patch', '/v1/tenants/{idOrName}'],
      ] as const) {
        assert.equal(body(method, path).required, true, `${method} ${path}`);
      }
      const res = await h.inject({ method: 'POST', url: '/v1/tenants/no-such-tenant/retry' });
      assert.equal(res.statusCode, 404, 'the server takes a retry without a body');
    });

    h.test('the main schemas have examples, each valid against its schema', async () => {
      for (const name of [
        'Tenant',
        'TenantList',
        'CreateTenantRequest',
        'TenantPatch',
        'Problem',
        'WorkflowRun',
      ]) {
        assert.ok(doc.components.schemas[name]?.examples?.length, `examples of ${name}`);
      }
      for (const name of Object.keys(SCHEMA_EXAMPLES)) {
        assert.ok(doc.components.schemas[name]?.examples, `${name} is a component and got its examples`);
      }
      assert.deepEqual(invalidExamples(doc), []);
      const broken = structuredClone(doc);
      broken.components.schemas.Tenant!.examples = [{ id: 42 }];
      assert.match(invalidExamples(broken).join('\n'), /^Tenant: /, 'the check rejects a wrong example');
    });

    h.test('tenant answers document ETag; a create, Location; 429 and 503, Retry-After', async () => {
      const create = doc.paths['/v1/tenants']!.post!.responses;
      assert.deepEqual(Object.keys(create['201']!.headers!), ['location', 'etag', 'idempotent-replayed']);
      assert.deepEqual(Object.keys(doc.paths['/v1/tenants/{idOrName}']!.get!.responses['200']!.headers!), [
        'etag',
      ]);
      assert.deepEqual(Object.keys(create['429']!.headers!), ['retry-after']);
      assert.deepEqual(Object.keys(doc.paths['/readyz']!.get!.responses['503']!.headers!), ['retry-after']);
    });

    h.test('/docs serves swagger-ui', async () => {
      const res = await h.inject({ method: 'GET', url: '/docs', token: null });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /swagger/i);
      const bundle = await h.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js', token: null });
      assert.equal(bundle.statusCode, 200);
    });
  });
}
