// One error taxonomy for the whole project. Every error we raise on purpose is a FluxburstError
// with a stable `code`; activities turn it into an ApplicationFailure of that type, so the
// workflow and the CLI can branch on the code instead of parsing messages.

/**
 * Every failure type fluxburst raises: the `code` of a FluxburstError, which activities turn into
 * the ApplicationFailure `type`, and the types workflows throw themselves. The list is closed: a
 * FluxburstError takes only these (or a ProviderCode), and test/unit/error-codes.test.ts fails on
 * any failure type in the code that is not here.
 */
export const FAILURE_TYPES = [
  // input and configuration (the CLI exits 2)
  'InvalidInput',
  'PluginLoadError',
  // the resource is gone (compensations treat it as done), exists, or is someone else's
  'NotFound',
  'AlreadyExists',
  'NotOurs',
  'ClusterNotFound',
  'ClusterExists',
  'NodePoolExists',
  // capacity and fit
  'InsufficientCapacity',
  'NoTargetFits',
  'Unfit',
  'ResourceExhausted',
  'ResourceQuota',
  'LaunchTimeout',
  'ReadyTimeout',
  // a provider refused or failed (Kubernetes 401/403 and 400/422, GKE operations)
  'Forbidden',
  'Invalid',
  'ClusterFailed',
  'NodePoolFailed',
  // a plugin cannot do what was asked (an unknown step kind, a resource it cannot delete)
  'Unsupported',
  'RunNotSupported',
  'ReleaseNotSupported',
  // nodes and runs
  'NodeLost',
  'FluxJoinFailed',
  'SlurmResumeFailed',
  'BurstFailed',
  'InterruptionQueueFailed',
  'InterruptionQueueUnavailable',
  'SpoolUnreadable',
  // local commands: Flux, Slurm
  'FluxNotFound',
  'FluxCommandFailed',
  'FluxOutputInvalid',
  'SlurmNotFound',
  'SlurmCommandFailed',
  'SlurmOutputInvalid',
  // Temporal servers fluxburst starts or connects to
  'ConnectFailed',
  'WorkerFailed',
  'ServerRunning',
  'ServerExited',
  'ServerTimeout',
  'ServerFailed',
  'MissingTemporalCli',
  'MissingClusterBinaries',
  'ClusterStart',
  'ClusterPostgres',
  'ClusterSchema',
  'ClusterNamespace',
  'ClusterSearchAttributes',
  'SearchAttributeType',
  'SearchAttributeLimit',
  // retried by Temporal's policy; a fault injected by the tests
  'Transient',
  'InjectedFault',
] as const;

export type FailureType = (typeof FAILURE_TYPES)[number];

/**
 * A provider's own error code passed through as the failure type (EC2 API codes such as
 * InsufficientInstanceCapacity or UnauthorizedOperation, gRPC status names from GKE), so users and
 * retry rules see the provider's word. Only made by providerCode(), which marks the pass-through.
 */
export type ProviderCode = string & { readonly __providerCode: true };
export const providerCode = (code: string): ProviderCode => code as ProviderCode;

const FAILURE_TYPE_SET: ReadonlySet<string> = new Set(FAILURE_TYPES);
export const isFailureType = (code: string): code is FailureType => FAILURE_TYPE_SET.has(code);

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `plugins[0].params.latencyMs`. */
  path: string;
  message: string;
}

export class FluxburstError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: FailureType | ProviderCode, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }
}

/** Bad user input (config, flags, jobs file). Never retried; the CLI exits 2. */
export class InputError extends FluxburstError {
  readonly issues: FieldIssue[];
  readonly origin: string;
  constructor(origin: string, issues: FieldIssue[]) {
    super('InvalidInput', formatIssues(origin, issues));
    this.origin = origin;
    this.issues = issues;
  }
}

/** A plugin could not be found or does not honour the contract. */
export class PluginLoadError extends FluxburstError {
  constructor(message: string, cause?: unknown) {
    super('PluginLoadError', message, { cause });
  }
}

/** The resource is already gone: compensations treat this as success. */
export class NotFoundError extends FluxburstError {
  constructor(message: string) {
    super('NotFound', message);
  }
}

/** Capacity could not be had (cloud capacity errors, local limits). */
export class CapacityError extends FluxburstError {
  constructor(message: string, code: FailureType | ProviderCode = 'InsufficientCapacity', retryable = false) {
    super(code, message, { retryable });
  }
}

/** A node stopped answering while it ran work: the burst treats it as an interruption. */
export class NodeLostError extends FluxburstError {
  readonly node: string;
  constructor(node: string, message: string) {
    super('NodeLost', message);
    this.node = node;
  }
}

/** A fault injected on purpose (the local plugin's `fault` param), to drive rollback paths. */
export class InjectedFault extends FluxburstError {
  constructor(step: string, retryable: boolean) {
    super('InjectedFault', `injected fault at ${step}`, { retryable });
  }
}

/** Something we did not expect from a dependency; retried by Temporal's policy. */
export class TransientError extends FluxburstError {
  constructor(message: string, cause?: unknown) {
    super('Transient', message, { retryable: true, cause });
  }
}

export function formatIssues(origin: string, issues: FieldIssue[]): string {
  const lines = issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`);
  return `invalid ${origin}:\n${lines.join('\n')}`;
}

/**
 * Failure types never retried, whatever flag the failure carries (InjectedFault is absent: its
 * own nonRetryable flag says whether it is a transient fault).
 */
export const NON_RETRYABLE_CODES = [
  'InvalidInput',
  'PluginLoadError',
  'InsufficientCapacity',
  'NodeLost',
] as const satisfies readonly FailureType[];
