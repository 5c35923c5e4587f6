import assert from 'node:assert/strict';
import { validate } from '@readme/openapi-parser';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite } from './testing/api-harness.js';

/** Every endpoint of SPEC §7 (the document itself and /docs excepted). */
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
  ['get', '/healthz'],
  ['get', '/readyz'],
  ['get', '/metrics'],
];

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        security?: unknown[];
        responses: Record<string, { content?: Record<string, unknown> }>;
        requestBody?: { content: Record<string, unknown> };
      }
    >
  >;
  components: { schemas: Record<string, unknown> };
};

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

    h.test('lists every route of SPEC §7', async () => {
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

    h.test('/docs serves swagger-ui', async () => {
      const res = await h.inject({ method: 'GET', url: '/docs', token: null });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /swagger/i);
      const bundle = await h.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js', token: null });
      assert.equal(bundle.statusCode, 200);
    });
  });
}
