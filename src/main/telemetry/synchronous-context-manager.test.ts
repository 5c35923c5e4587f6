import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, createContextKey, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { inSpan } from '../../domain/tracing.js';
import { SynchronousContextManager } from './synchronous-context-manager.js';
import { startTracing } from './tracing.js';

const KEY = createContextKey('test');

test('a context is active while the function runs synchronously, nested, and restored after a throw', () => {
  const manager = new SynchronousContextManager();
  const outer = ROOT_CONTEXT.setValue(KEY, 'outer');
  const inner = ROOT_CONTEXT.setValue(KEY, 'inner');
  const seen = manager.with(outer, () => {
    const nested = manager.with(inner, () => manager.active().getValue(KEY));
    assert.throws(() =>
      manager.with(inner, () => {
        throw new Error('boom');
      }),
    );
    return [nested, manager.active().getValue(KEY)];
  });
  assert.deepEqual(seen, ['inner', 'outer']);
  assert.equal(manager.active(), ROOT_CONTEXT);
  const bound = manager.bind(outer, (suffix: string) => `${String(manager.active().getValue(KEY))}${suffix}`);
  assert.equal(bound('!'), 'outer!');
});

test('no async context is kept: after an await the active context is the root again', async () => {
  const manager = new SynchronousContextManager();
  const ctx = ROOT_CONTEXT.setValue(KEY, 'value');
  const after = await manager.with(ctx, async () => {
    assert.equal(manager.active().getValue(KEY), 'value');
    await Promise.resolve();
    return manager.active().getValue(KEY);
  });
  assert.equal(after, undefined);
});

test('with tracing on, a span is active until its function first awaits; children get its context explicitly', async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing({ exporter });
  try {
    await inSpan('parent', {}, async (span, spanContext) => {
      assert.equal(trace.getSpan(context.active()), span, 'active while running synchronously');
      await Promise.resolve();
      assert.equal(trace.getSpan(context.active()), undefined, 'no async context after an await');
      await inSpan('child', { parent: spanContext }, () => Promise.resolve());
    });
    const [child, parent] = exporter.getFinishedSpans();
    assert.equal(child?.name, 'child');
    assert.equal(child.parentSpanContext?.spanId, parent?.spanContext().spanId);
  } finally {
    await tracing?.stop();
  }
});
