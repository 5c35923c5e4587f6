/**
 * Import rules for Lessor (docs/architecture.md, "Layers and the direction of imports"), checked in CI by
 * `npm run depcheck`.
 *
 * Layers, lowest first; each may import only the layers listed for it:
 *
 *   domain        ← nothing outside domain
 *   store         ← domain                 (store and compute are siblings: never each other)
 *   compute       ← domain
 *   workflow      ← domain, store          (the engine is generic: no compute, no provisioning)
 *   callbacks     ← domain, store, workflow
 *   provisioning  ← domain, store, compute, workflow, callbacks
 *   controller    ← … provisioning
 *   api           ← … controller
 *   cli           ← domain and the API's typed client (src/api/client*, src/api/types*)
 *   main          ← anything; nothing but main imports main
 *
 * Implementations (a provider folder, a workflow engine, a database binding) never import a
 * sibling implementation. Providers and engines are wired in src/main only; database bindings are
 * also opened by src/store/create-store (lazily, by URL). Each vendor SDK is imported from exactly
 * one folder.
 *
 * Test code — `*.test.ts`, `src/**\/testing/**`, `src/**\/conformance/**` (shared suites run
 * against every implementation), test/ and bench/ — may import anything, but still takes part in
 * the no-cycles rule.
 */

/** Paths exempt from the direction rules (never from `no-circular`). */
const TESTS = ['\\.test\\.ts$', '(^|/)testing/', '(^|/)conformance/', '^test/', '^bench/'];

const LAYERS = {
  domain: [],
  store: ['domain'],
  compute: ['domain'],
  workflow: ['domain', 'store'],
  callbacks: ['domain', 'store', 'workflow'],
  provisioning: ['domain', 'store', 'compute', 'workflow', 'callbacks'],
  controller: ['domain', 'store', 'compute', 'workflow', 'callbacks', 'provisioning'],
  api: ['domain', 'store', 'compute', 'workflow', 'callbacks', 'provisioning', 'controller'],
  cli: ['domain', 'api/client', 'api/types'],
  main: null, // anything
};
const KNOWN_LAYERS = `^src/(${Object.keys(LAYERS).join('|')})/`;

/** Folders holding one implementation of a contract. */
const IMPLEMENTATIONS =
  '^src/(compute/providers/[^/]+|workflow/(?:embedded|restate)|store/(?:sqlite|postgres))/';
/**
 * Those of them that only src/main wires: a provider is a folder plus one line in
 * src/main/provider-factories.ts; an engine is a folder plus its branch and config in
 * src/main/create-engine.ts.
 */
const WIRED_IN_MAIN = '^src/(compute/providers/[^/]+|workflow/(?:embedded|restate))/';

/** vendor → the package folders under node_modules it covers (incl. @types) and who may import it */
const VENDORS = [
  {
    name: 'better-sqlite3',
    packages: ['better-sqlite3', '@types/better-sqlite3'],
    allowed: ['^src/store/sqlite/'],
  },
  { name: 'pg', packages: ['pg', 'pg-[a-z-]+', '@types/pg'], allowed: ['^src/store/postgres/'] },
  { name: 'aws-sdk', packages: ['@aws-sdk/[^/]+'], allowed: ['^src/compute/providers/ecs/'] },
  { name: 'restate', packages: ['@restatedev/[^/]+'], allowed: ['^src/workflow/restate/'] },
  {
    name: 'fastify',
    packages: ['fastify', 'fastify-[a-z-]+', '@fastify/[^/]+'],
    allowed: ['^src/api/', '^src/main/'],
  },
  { name: 'commander', packages: ['commander'], allowed: ['^src/cli/', '^src/main/'] },
];
const vendorPaths = (packages) => packages.map((pkg) => `(^|/)node_modules/${pkg}/`);

const layerRules = Object.entries(LAYERS)
  .filter(([, allowed]) => allowed !== null)
  .map(([layer, allowed]) => ({
    name: `layer-${layer}`,
    severity: 'error',
    comment:
      `src/${layer} may import only ` +
      (allowed.length === 0 ? 'itself' : `itself and ${allowed.map((a) => `src/${a}`).join(', ')}`) +
      ' (docs/architecture.md, layers).',
    from: { path: `^src/${layer}/`, pathNot: TESTS },
    to: {
      path: '^src/',
      pathNot: [`^src/${layer}/`, ...allowed.map((a) => (a.includes('/') ? `^src/${a}` : `^src/${a}/`))],
    },
  }));

const vendorRules = VENDORS.map(({ name, packages, allowed }) => ({
  name: `vendor-${name}`,
  severity: 'error',
  comment: `${name} is imported only from ${allowed.join(', ')}: the SDK stays behind one folder.`,
  from: { pathNot: [...allowed, ...TESTS] },
  to: { path: vendorPaths(packages) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles are forbidden everywhere, tests included (type-only imports count too).',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'unknown-layer',
      severity: 'error',
      comment: `Every folder under src/ is a layer listed in .dependency-cruiser.cjs; add a new one there.`,
      from: { path: '^src/', pathNot: [KNOWN_LAYERS] },
      to: {},
    },
    {
      name: 'not-to-main',
      severity: 'error',
      comment: 'src/main is the composition root: nothing but src/main imports it.',
      from: { pathNot: ['^src/main/', ...TESTS] },
      to: { path: '^src/main/' },
    },
    {
      name: 'implementations-wired-in-main',
      severity: 'error',
      comment:
        'Providers and workflow engines are wired in src/main; everything else depends on their ' +
        'contract.',
      from: { pathNot: ['^src/main/', WIRED_IN_MAIN, ...TESTS] },
      to: { path: WIRED_IN_MAIN },
    },
    {
      name: 'no-sibling-implementation',
      severity: 'error',
      comment: 'An implementation never imports a sibling implementation (provider, engine or binding).',
      from: { path: IMPLEMENTATIONS, pathNot: TESTS },
      to: { path: IMPLEMENTATIONS, pathNot: '^src/$1/' },
    },
    {
      name: 'api-client-without-server',
      severity: 'error',
      comment: "The API's typed client is what the CLI loads: it must not pull in the server framework.",
      from: { path: '^src/api/(client|types)', pathNot: TESTS },
      to: { path: vendorPaths(VENDORS.find((v) => v.name === 'fastify').packages) },
    },
    ...vendorRules,
    {
      name: 'not-to-test',
      severity: 'error',
      comment: 'Production code never imports a test file.',
      from: { pathNot: TESTS },
      to: { path: '\\.test\\.ts$' },
    },
    {
      name: 'not-to-testing',
      severity: 'error',
      comment:
        'Test helpers (src/**/testing/**) are not part of the product: production code never uses them.',
      from: { path: '^src/', pathNot: TESTS },
      to: { path: '(^|/)testing/' },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment:
        'Production code imports only `dependencies`: devDependencies are not installed in production.',
      from: { path: '^src/', pathNot: TESTS },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment: 'Import only packages declared in package.json, never a transitive dependency.',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'The imported module cannot be found on disk.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    moduleSystems: ['es6', 'cjs'],
    // Type-only imports count: a layer must not even know the types of a layer above it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['main', 'types', 'typings'],
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      archi: {
        collapsePattern:
          '^src/(compute/providers|workflow|store)/[^/]+|^src/[^/]+|node_modules/(?:@[^/]+/[^/]+|[^/]+)',
      },
    },
  },
};
