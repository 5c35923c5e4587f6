import { ValidationError } from '../../domain/errors.js';

/** One thing wrong with the configuration: the dotted key, what was expected, and where the value came from. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  /** e.g. `lessor.yaml`, `LESSOR_SERVER__PORT="abc"`, `--port=0`; absent for built-in defaults. */
  readonly source?: string;
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.source === undefined ? '' : ` (from ${problem.source})`;
  return `${problem.path}: ${problem.message}${where}`;
}

/**
 * The configuration cannot be used; the server must not start. Lists every problem at once, so a
 * user fixes them in one pass rather than one per restart.
 */
export class ConfigError extends ValidationError {
  readonly configProblems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map(formatProblem);
    super(
      `invalid configuration:\n  ${lines.join('\n  ')}`,
      lines.map((message, index) => ({
        path: problems[index]?.path ?? '',
        message,
      })),
    );
    this.configProblems = problems;
  }
}
