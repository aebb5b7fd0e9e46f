// The CLI's one error boundary: whatever is thrown (or rejected, or raised outside the command's
// promise) ends as one line on stderr and an exit code. Known failures say what to fix; an
// unexpected one says what it was, and its stack is printed only under --debug / FLUXBURST_DEBUG.
import { FluxburstError, InputError } from '../core/errors.js';

/**
 * Exit codes: 0 ok, 1 the burst or a call failed, 2 bad input (nothing started), 3 cancelled,
 * 4 `burst` started what fits and left jobs that fit no target (listed on stderr; `--strict` refuses instead).
 */
export const EXIT = { ok: 0, failed: 1, input: 2, cancelled: 3, partial: 4 } as const;

export interface Failure {
  exit: number;
  /** One line, without the `error: ` prefix. */
  line: string;
}

/** gRPC status codes by number (grpc-js and Temporal's core both use them). */
const GRPC: Record<number, string> = {
  1: 'cancelled',
  2: 'unknown error',
  3: 'invalid argument',
  4: 'deadline exceeded',
  5: 'not found',
  6: 'already exists',
  7: 'permission denied',
  8: 'resource exhausted',
  9: 'failed precondition',
  10: 'aborted',
  11: 'out of range',
  12: 'unimplemented',
  13: 'internal error',
  14: 'unavailable',
  15: 'data loss',
  16: 'unauthenticated',
};

/** Collapse whitespace and newlines: a message from a dependency may span lines. */
export function oneLine(s: string, max = 600): string {
  const t = s.replace(/\s*\n\s*/g, ' ').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** Every error in the cause chain (bounded: a cycle must not hang the boundary). */
function chain(e: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = e;
  while (cur !== undefined && cur !== null && out.length < 8 && !out.includes(cur)) {
    out.push(cur);
    cur = typeof cur === 'object' ? (cur as { cause?: unknown }).cause : undefined;
  }
  return out;
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

/** The gRPC status somewhere in the chain: {code, details} from grpc-js's ServiceError. */
function grpcStatus(e: unknown): { code: number; details: string } | undefined {
  for (const c of chain(e)) {
    if (c && typeof c === 'object' && typeof (c as { code?: unknown }).code === 'number' && 'details' in c) {
      const { code, details } = c as { code: number; details: unknown };
      if (GRPC[code]) return { code, details: typeof details === 'string' ? details : '' };
    }
  }
  return undefined;
}

/** What the server (or the transport) said, with a hint where the usual cause is known. */
function describeGrpc(top: string, s: { code: number; details: string }): string {
  const reason = s.details || GRPC[s.code]!;
  const hint = /HTTP status code|unexpected content-type|protocol error|http2 error/i.test(reason)
    ? ' (is --address a Temporal frontend? it answered, but not as Temporal)'
    : s.code === 14
      ? ' (is the Temporal server running at --address?)'
      : s.code === 16 || s.code === 7
        ? ' (check --api-key and the TLS client certificate)'
        : '';
  const head = top && !top.includes(reason) ? `${top}: ` : '';
  return `${head}${reason}${hint} [${GRPC[s.code]}]`;
}

/** Render an InputError's issues on one line: `invalid config x.yaml: a.b: why; c: why`. */
function inputLine(e: InputError): string {
  const issues = e.issues.map((i) => `${i.path ? `${i.path}: ` : ''}${i.message}`);
  return `invalid ${e.origin}: ${issues.join('; ')}`;
}

export function describeFailure(e: unknown): Failure {
  if (e instanceof InputError) return { exit: EXIT.input, line: oneLine(inputLine(e), 4000) };
  // A Temporal client error names what failed ("Failed to describe workflow"); the server's words are in the cause.
  const status = grpcStatus(e);
  const name = e instanceof Error ? e.name : '';
  const msg = messageOf(e);
  if (e instanceof FluxburstError) return { exit: EXIT.failed, line: oneLine(status && !msg.includes(status.details) ? `${msg}: ${status.details}` : msg) };
  if (status) return { exit: EXIT.failed, line: oneLine(describeGrpc(msg, status)) };
  // Temporal's client raises these for a refused call; the message is the server's reason.
  if (name === 'NamespaceNotFoundError') return { exit: EXIT.failed, line: oneLine(`${msg} (the server has no such namespace; check --namespace)`) };
  // The worker's core (Rust) reports a refused call as text: `Status { code: NotFound, message: "…", … }`.
  const coreStatus = /Status \{ code: (\w+), message: "((?:[^"\\]|\\.)*)"/.exec(msg);
  if (coreStatus) {
    const lead = msg.slice(0, coreStatus.index).replace(/[:\s]+$/, '');
    return { exit: EXIT.failed, line: oneLine(`${lead ? `${lead}: ` : ''}${coreStatus[2]} [${coreStatus[1]}]`) };
  }
  const known = name && name !== 'Error' && !msg.startsWith(name) ? `${name}: ${msg}` : msg || name || 'unknown failure';
  return { exit: EXIT.failed, line: oneLine(known) };
}

/** Print the failure (and its stack when asked) and return the exit code. */
export function reportFailure(e: unknown, debug: boolean, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  const f = describeFailure(e);
  write(`error: ${f.line}\n`);
  if (debug) {
    for (const c of chain(e)) if (c instanceof Error && c.stack) write(`${c === e ? '' : 'caused by: '}${c.stack}\n`);
  }
  return f.exit;
}

/** --debug anywhere on the command line, or FLUXBURST_DEBUG=1. */
export function debugWanted(argv: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  return argv.includes('--debug') || (!!env.FLUXBURST_DEBUG && env.FLUXBURST_DEBUG !== '0');
}
