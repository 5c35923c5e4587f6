/**
 * `Promise.withResolvers` (ES2024) for Node 20: the Restate SDK calls it on every invocation, and
 * without it each one fails. Imported for its side effect, before the SDK, by every module of this
 * folder that loads the SDK (ESM evaluates imports in source order). Defines nothing when the
 * runtime already has it.
 */
interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

type WithResolvers = <T>() => Resolvers<T>;

const promiseConstructor = Promise as unknown as { withResolvers?: WithResolvers };

if (typeof promiseConstructor.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers<T>(): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve'];
      let reject!: Resolvers<T>['reject'];
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
