/** The definitions an engine was built with, by name. */
import { ValidationError } from '../domain/errors.js';
import type { WorkflowDefinition } from './context.js';

export type AnyDefinition = WorkflowDefinition<never, unknown>;

export class Definitions {
  private readonly byName: ReadonlyMap<string, AnyDefinition>;

  constructor(definitions: readonly AnyDefinition[]) {
    this.byName = new Map(definitions.map((definition) => [definition.name, definition]));
  }

  get(name: string): AnyDefinition | undefined {
    return this.byName.get(name);
  }

  names(): readonly string[] {
    return [...this.byName.keys()];
  }

  /** What `start` checks before anything is stored. */
  require(name: string): AnyDefinition {
    const definition = this.byName.get(name);
    if (!definition) throw new ValidationError(`unknown workflow definition '${name}'`);
    return definition;
  }
}
