/**
 * The docker compute provider (Docker Engine API; Podman's compatible service): the one export
 * `main/` wires in is `dockerProviderFactory`. Options: see docker-options.ts.
 */
export { dockerProviderFactory } from './docker-provider-factory.js';
export { DockerProvider } from './docker-provider.js';
export { DOCKER_CONFIG_SCHEMA, type DockerConfig } from './docker-config.js';
export { DEFAULT_DOCKER_HOST, dockerProviderOptions, type DockerProviderOptions } from './docker-options.js';
