// One closed list of failure types (src/core/errors.ts FAILURE_TYPES). The compiler holds
// FluxburstError and CapacityError to it; this test holds what the compiler cannot see: the
// ApplicationFailure types workflows and activities throw as strings, the codes of error
// subclasses, and the codes the code branches on. And an unknown step kind is not retried.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { FAILURE_TYPES, FluxburstError, NON_RETRYABLE_CODES } from '../../src/core/errors.js';
import type { PluginContext } from '../../src/plugins/contract.js';
import { awsEc2Plugin } from '../../src/plugins/aws-ec2/plugin.js';
import { awsEc2Params } from '../../src/plugins/aws-ec2/params.js';
import { kubernetesPlugin } from '../../src/plugins/kubernetes/plugin.js';
import { kubernetesParams } from '../../src/plugins/kubernetes/params.js';
import { localPlugin, localParams } from '../../src/plugins/local/plugin.js';

const ROOTS = ['src', 'activities', 'workflows', 'workers'];
const files = (d: string): string[] =>
  readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : [],
  );

interface Use {
  type: string;
  at: string;
}

/** Every failure type named in the code, found in the syntax tree (not by grepping messages). */
function failureTypesUsed(): { uses: Use[]; dynamic: string[] } {
  const uses: Use[] = [];
  const dynamic: string[] = [];
  for (const file of ROOTS.flatMap(files)) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const at = (n: ts.Node) => `${file}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    const literal = (n: ts.Node | undefined, site: ts.Node, allowDynamic: (t: string) => boolean) => {
      if (!n) return;
      if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) uses.push({ type: n.text, at: at(site) });
      else if (ts.isConditionalExpression(n)) (literal(n.whenTrue, site, allowDynamic), literal(n.whenFalse, site, allowDynamic));
      else if (!allowDynamic(n.getText(sf))) dynamic.push(`${at(site)}: ${n.getText(sf)}`);
    };
    const isErrorClass = (c: ts.ClassLikeDeclaration | undefined) =>
      !!c?.heritageClauses?.some((h) => h.types.some((t) => /(FluxburstError|CapacityError)$/.test(t.expression.getText(sf))));
    const visit = (n: ts.Node): void => {
      if (ts.isNewExpression(n)) {
        const name = n.expression.getText(sf);
        // Typed by the compiler; listed here too so the list is the one place to read.
        if (name === 'FluxburstError') literal(n.arguments?.[0], n, (t) => /^providerCode\(/.test(t) || t === 'code');
        if (name === 'CapacityError') literal(n.arguments?.[1], n, (t) => /^providerCode\(/.test(t));
      }
      if (ts.isCallExpression(n)) {
        const callee = n.expression.getText(sf);
        if (callee === 'ApplicationFailure.nonRetryable' || callee === 'ApplicationFailure.retryable')
          literal(n.arguments[1], n, () => false);
        if (callee === 'ApplicationFailure.create' && n.arguments[0] && ts.isObjectLiteralExpression(n.arguments[0])) {
          for (const p of n.arguments[0].properties)
            if (ts.isPropertyAssignment(p) && p.name.getText(sf) === 'type') literal(p.initializer, n, (t) => t === 'e.code');
        }
        // super('Code', ...) in an error class; `const code = a ? 'X' : 'Y'` feeding it.
        if (n.expression.kind === ts.SyntaxKind.SuperKeyword) {
          let c: ts.Node | undefined = n.parent;
          while (c && !ts.isClassLike(c)) c = c.parent;
          if (isErrorClass(c as ts.ClassLikeDeclaration)) literal(n.arguments[0], n, (t) => t === 'code');
        }
      }
      if (ts.isVariableDeclaration(n) && n.name.getText(sf) === 'code' && n.initializer && ts.isConditionalExpression(n.initializer)) {
        let c: ts.Node | undefined = n.parent;
        while (c && !ts.isClassLike(c)) c = c.parent;
        if (isErrorClass(c as ts.ClassLikeDeclaration)) literal(n.initializer, n, () => false);
      }
      // What the code branches on: `e.code === 'X'` for our errors, `cause.type === 'X'` for failures.
      if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.EqualsEqualsEqualsToken && ts.isStringLiteral(n.right)) {
        const left = n.left.getText(sf);
        if (
          /(^e|cause)\.(code|type)$/.test(left) &&
          /^[A-Z][a-z]/.test(n.right.text) &&
          /FluxburstError|ApplicationFailure/.test(n.parent.getText(sf))
        )
          uses.push({ type: n.right.text, at: at(n) });
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return { uses, dynamic };
}

describe('one closed list of failure types', () => {
  const { uses, dynamic } = failureTypesUsed();

  it('finds the failure types the code raises (the scan itself works)', () => {
    const found = new Set(uses.map((u) => u.type));
    for (const t of [
      'BurstFailed',
      'SlurmResumeFailed',
      'RunNotSupported',
      'NodeLost',
      'Unsupported',
      'FluxCommandFailed',
      'SlurmOutputInvalid',
      'InjectedFault',
    ])
      expect(found, t).toContain(t);
    expect(uses.length).toBeGreaterThan(60);
  });

  it('every failure type used in the code is in FAILURE_TYPES', () => {
    const listed = new Set<string>(FAILURE_TYPES);
    expect(uses.filter((u) => !listed.has(u.type)).map((u) => `${u.at}: ${u.type}`)).toEqual([]);
  });

  it('no failure type is computed at run time, except a provider code passed through providerCode()', () => {
    expect(dynamic).toEqual([]);
  });

  it('the list has no duplicates, and the never-retried codes are in it', () => {
    expect(new Set(FAILURE_TYPES).size).toBe(FAILURE_TYPES.length);
    for (const c of NON_RETRYABLE_CODES) expect(FAILURE_TYPES).toContain(c);
  });
});

describe('a step kind a plugin does not know fails for good (a retry cannot help)', () => {
  const ctx: PluginContext = {
    burstId: 'b-unknown',
    owner: 'alice',
    attempt: 1,
    credentials: {},
    signal: new AbortController().signal,
    heartbeat: () => undefined,
    log: { info: () => undefined, warn: () => undefined },
  };
  const step = { key: 'x-0', kind: 'no-such-kind' };
  const plan = { plugin: 'x', nodes: 1, groups: [], steps: [step], estimate: { nodes: 1, costPerHour: 0, secondsToReady: 0 } };
  const cases = [
    [
      'aws-ec2',
      () =>
        awsEc2Plugin.provision(
          step,
          plan,
          awsEc2Params.parse({ region: 'us-east-1', imageId: 'ami-12345678', subnetIds: ['subnet-a'] }),
          ctx,
        ),
    ],
    [
      'kubernetes',
      () => kubernetesPlugin.provision(step, plan, kubernetesParams.parse({ cluster: { server: 'https://127.0.0.1:1' } }), ctx),
    ],
    ['local', () => localPlugin.provision(step, plan, localParams.parse({}), ctx)],
  ] as const;
  it.each(cases)('%s', async (_name, provision) => {
    const e = await (provision as () => Promise<unknown>)().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(FluxburstError);
    expect(e).toMatchObject({ code: 'Unsupported', retryable: false });
    expect((e as Error).message).toMatch(/cannot provision a no-such-kind/);
  });
});
