// One error taxonomy for the whole project. Every error we raise on purpose is a FluxburstError
// with a stable `code`; activities turn it into an ApplicationFailure of that type, so the
// workflow and the CLI can branch on the code instead of parsing messages.

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `plugins[0].params.latencyMs`. */
  path: string;
  message: string;
}

export class FluxburstError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
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
  constructor(message: string, code = 'InsufficientCapacity', retryable = false) {
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
] as const;
