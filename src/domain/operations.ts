/** The vocabulary of operations and their statuses, shared by tenants, executions, runs and policies. */
export type ComputeOperation = 'provision' | 'update' | 'delete' | 'suspend' | 'resume';
export const COMPUTE_OPERATIONS = [
  'provision',
  'update',
  'delete',
  'suspend',
  'resume',
] as const satisfies readonly ComputeOperation[];
export type ExecutionStatus = 'pending' | 'running' | 'succeeded' | 'failed';
export type WorkflowAction = ComputeOperation;
export type RunState =
  'pending' | 'running' | 'waiting' | 'backing-off' | 'succeeded' | 'failed' | 'cancelled';
