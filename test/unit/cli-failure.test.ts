// The CLI's error boundary maps anything thrown to one line and an exit code (src/cli/failure.ts);
// these are the shapes no server in the suite produces on demand.
import { describe, expect, it } from 'vitest';
import { EXIT, describeFailure, reportFailure } from '../../src/cli/failure.js';
import { FluxburstError, InputError } from '../../src/core/errors.js';

const grpc = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });

describe('describeFailure', () => {
  it.each<[string, unknown, number, RegExp]>([
    ['an input error with several issues, on one line', new InputError('config c.yaml', [{ path: 'a', message: 'bad\nworse' }, { path: '', message: 'root' }]), EXIT.input, /^invalid config c\.yaml: a: bad worse; root$/],
    ['a gRPC refusal wrapped by the client (cause)', Object.assign(new Error('Failed to start workflow'), { cause: grpc(7, 'Request unauthorized.') }), EXIT.failed, /^Failed to start workflow: Request unauthorized\. \(check --api-key.*\) \[permission denied\]$/],
    ['an HTTP answer where gRPC was expected', grpc(12, 'Received HTTP status code 404'), EXIT.failed, /Received HTTP status code 404 \(is --address a Temporal frontend\? .*\) \[unimplemented\]$/],
    ['the worker core’s Status text', new Error('Transport: Status { code: PermissionDenied, message: "no \\"x\\" for you", details: b"\\x08" }'), EXIT.failed, /^Transport: no \\"x\\" for you \[PermissionDenied\]$/],
    ['a TypeError from a library', new TypeError('Missing WorkflowOptions.taskQueue'), EXIT.failed, /^TypeError: Missing WorkflowOptions\.taskQueue$/],
    ['a string', 'plain words', EXIT.failed, /^plain words$/],
    ['an object that is not an Error', { weird: true }, EXIT.failed, /^\{"weird":true\}$/],
    ['undefined', undefined, EXIT.failed, /./],
    ['a FluxburstError with the server reason in its cause', new FluxburstError('NotFound', 'no burst "x"', { cause: grpc(5, 'workflow not found') }), EXIT.failed, /^no burst "x": workflow not found$/],
    ['a very long message, cut', new Error('x'.repeat(5000)), EXIT.failed, /^x{599}…$/],
  ])('%s', (_n, e, exit, line) => {
    const f = describeFailure(e);
    expect(f.exit).toBe(exit);
    expect(f.line).toMatch(line);
    expect(f.line).not.toContain('\n');
  });

  it('a cause chain that loops does not hang', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(describeFailure(a).line).toBe('a');
  });

  it('the stack only when asked', () => {
    const out: string[] = [];
    const e = new RangeError('deep');
    expect(reportFailure(e, false, (s) => out.push(s))).toBe(EXIT.failed);
    expect(out.join('')).toBe('error: RangeError: deep\n');
    out.length = 0;
    reportFailure(e, true, (s) => out.push(s));
    expect(out.join('')).toMatch(/^error: RangeError: deep\nRangeError: deep\n\s+at /);
  });
});
