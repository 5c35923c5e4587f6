/**
 * A dashboard route: a hash path, its view, and whether it shows in the navigation and for whom.
 * Each view module exports its routes; routes.ts lists the modules (a new view = a module + a line).
 */
import type { VNode } from 'preact';
import type { Grant } from './app-context.js';

export interface ViewProps {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
}

export interface RouteDef {
  /** `/tenants/:name` */
  readonly path: string;
  /** Navigation label (nav routes) and fallback page title. */
  readonly title: string;
  /** Shown in the navigation bar. */
  readonly nav?: boolean;
  /** Only callers with this grant see it (the API refuses the others anyway). */
  readonly grant?: Grant;
  readonly view: (props: ViewProps) => VNode;
}
