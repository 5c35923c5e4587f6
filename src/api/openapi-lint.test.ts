/**
 * The served OpenAPI document passes Spectral's `spectral:oas` ruleset (its recommended rules, as
 * `extends: spectral:oas` gives them) plus four rules that ruleset leaves off — declared tags with
 * descriptions, a license, a description on every parameter — with no error and no warning. Among
 * the recommended rules: every operation has a description and declared tags, `servers` and
 * `info.contact` are set, and `example`s and defaults are valid against their schemas (the
 * components' JSON Schema `examples` are checked in openapi.test.ts: this ruleset does not read them).
 */
import assert from 'node:assert/strict';
import spectralCore, { type ISpectralDiagnostic, type RulesetDefinition } from '@stoplight/spectral-core';
import spectralParsers from '@stoplight/spectral-parsers';
import spectralRulesets from '@stoplight/spectral-rulesets';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite } from './testing/api-harness.js';

const { Document, Spectral } = spectralCore;
const SEVERITY = ['error', 'warning', 'info', 'hint'] as const;
/** `spectral:oas`; its declared type misses the `extends` that a definition may leave out. */
const OAS = spectralRulesets.oas as RulesetDefinition;

async function lint(text: string): Promise<ISpectralDiagnostic[]> {
  const spectral = new Spectral();
  spectral.setRuleset({
    extends: [[OAS, 'recommended']],
    rules: {
      'openapi-tags': 'warn',
      'tag-description': 'warn',
      'info-license': 'warn',
      'oas3-parameter-description': 'warn',
    },
  });
  return spectral.run(new Document(text, spectralParsers.Json, '/openapi.json'));
}

function describeResult(result: ISpectralDiagnostic): string {
  return `${SEVERITY[result.severity] ?? result.severity} ${String(result.code)} at ${result.path.join('.')}: ${result.message}`;
}

const backend = backends()[0];
if (backend) {
  apiSuite(backend, 'OpenAPI lint', (h) => {
    h.test('/openapi.json passes spectral:oas with no error and no warning', async () => {
      const res = await h.inject({ method: 'GET', url: '/openapi.json', token: null });
      assert.equal(res.statusCode, 200);
      const results = await lint(res.body);
      const findings = results.filter((r) => Number(r.severity) <= 1).map(describeResult); // errors, warnings
      assert.deepEqual(findings, []);
    });

    h.test('the lint reports a missing description and an undeclared tag', async () => {
      const res = await h.inject({ method: 'GET', url: '/openapi.json', token: null });
      const doc = res.json<{
        paths: Record<string, Record<string, { tags?: string[]; description?: string }>>;
      }>();
      const list = doc.paths['/v1/tenants']!.get!;
      list.tags = ['nowhere'];
      delete list.description;
      const codes = new Set((await lint(JSON.stringify(doc))).map((r) => String(r.code)));
      assert.ok(codes.has('operation-tag-defined'), [...codes].join(', '));
      assert.ok(codes.has('operation-description'), [...codes].join(', '));
    });
  });
}
