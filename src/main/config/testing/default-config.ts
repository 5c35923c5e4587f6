/**
 * The configuration with nothing set: every built-in default, read from the schema. Tests take
 * defaults from here rather than repeating literals, so a default changes in one place only.
 */
import { configSchema, type LessorConfig } from '../config-schema.js';

export function defaultConfig(): LessorConfig {
  return configSchema.parse({});
}
