// EC2 API calls per burst: drives the aws-ec2 plugin (plan → provision launch template → provision
// fleet → join → teardown fleet → teardown launch template) on the patched moto server for bursts
// of 10, 100 and 1,000 nodes, counts every EC2 call through SDK middleware (onEc2Call) and
// cross-checks the total with moto's own per-action counter. Target (EC2 issue): at most
// ⌈nodes/500⌉ + 3 create/terminate calls per burst, plus bounded polling. A benchmark, not a
// test: exits 0 whether or not the target is met (non-zero only if it could not run); the N=10
// case is guarded in CI by test/unit/aws-ec2-calls.test.ts.
//
//   npm run build && npm run bench:ec2
//
// Env: BENCH_EC2_NODES (10,100,1000), BENCH_EC2_CAPACITY (on-demand,spot).
import { pathToFileURL } from 'node:url';
import { DescribeFleetsCommand, DescribeInstancesCommand, DescribeLaunchTemplatesCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { Job, ResourceRef } from '../src/core/types.js';
import type { PluginContext } from '../src/plugins/contract.js';
import { onEc2Call } from '../src/plugins/aws-ec2/client.js';
import { NOT_GONE_STATES } from '../src/plugins/aws-ec2/fleet.js';
import { unavailableOfferings } from '../src/plugins/aws-ec2/offerings.js';
import { awsEc2Params, type AwsEc2Params } from '../src/plugins/aws-ec2/params.js';
import { awsEc2Plugin } from '../src/plugins/aws-ec2/plugin.js';
import { motoBase, startMoto } from '../testkit/moto/index.js';

const REGION = 'us-east-1';
const CREDS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };

/**
 * Calls that make or remove a resource. CreateTags is kept apart: it makes nothing, and each node's
 * name is a distinct tag value (read by the interruption queue and releaseNode), while one
 * CreateTags call sets one value on every resource it names, so naming N nodes is N calls.
 */
export const CREATE_TERMINATE = new Set([
  'CreateLaunchTemplate',
  'CreatePlacementGroup',
  'CreateFleet',
  'RunInstances',
  'TerminateInstances',
  'DeleteFleets',
  'DeleteLaunchTemplate',
  'DeletePlacementGroup',
]);
export const TAGGING = new Set(['CreateTags']);

export const target = (nodes: number): number => Math.ceil(nodes / 500) + 3;

type Phase = 'provision' | 'join' | 'teardown';

export interface BurstCalls {
  nodes: number;
  capacityType: AwsEc2Params['capacityType'];
  byAction: Record<string, number>;
  byPhase: Record<Phase, Record<string, number>>;
  createTerminate: number;
  tagging: number;
  describe: number;
  other: number;
  total: number;
  /** The same window as counted by moto (HTTP requests, so SDK retries count there, not here). */
  motoTotal: number;
  motoByAction: Record<string, number>;
  /** Instances of the burst not gone after teardown (must be 0), and leftovers of other kinds. */
  leftInstances: number;
  leftOther: string[];
  wallMs: number;
  /** Why the burst failed (teardown still ran and was counted). */
  error?: string;
}

export interface MotoEnv {
  endpoint: string;
  calls(): Promise<Record<string, number>>;
}

// Shared with the chaos bench; re-exported for test/unit/aws-ec2-calls.test.ts.
export { motoBase };

function ctx(burstId: string): PluginContext {
  return {
    burstId,
    owner: 'bench',
    attempt: 1,
    credentials: { ...CREDS },
    signal: new AbortController().signal,
    heartbeat: () => undefined,
    log: { info: () => undefined, warn: () => undefined },
  };
}

const diff = (after: Record<string, number>, before: Record<string, number>): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
};
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** One burst of `nodes` nodes through the plugin, every EC2 call counted. */
export async function measureBurst(moto: MotoEnv, base: Record<string, unknown>, nodes: number, capacityType: AwsEc2Params['capacityType'], burstId: string): Promise<BurstCalls> {
  const p = awsEc2Params.parse({
    ...base,
    nodes,
    maxNodes: 1000,
    instanceTypes: ['c5.large'],
    capacityType,
    pollSeconds: 0.2,
    launchTimeoutSeconds: 30,
  });
  const job: Job = { id: 'bench', name: 'bench', nodes: 1, tasks: 2, coresPerNode: 2, command: ['true'], attributes: {} };
  unavailableOfferings.clear();
  const byPhase: Record<Phase, Record<string, number>> = { provision: {}, join: {}, teardown: {} };
  let phase: Phase = 'provision';
  const before = await moto.calls();
  const t0 = performance.now();
  const off = onEc2Call((a) => {
    byPhase[phase][a] = (byPhase[phase][a] ?? 0) + 1;
  });
  const refs: Array<ResourceRef | undefined> = [];
  let error: string | undefined;
  try {
    const plan = await awsEc2Plugin.plan([job], p, ctx(burstId));
    try {
      for (const s of plan.steps) refs.push(await awsEc2Plugin.provision(s, plan, p, ctx(burstId)));
      phase = 'join';
      await awsEc2Plugin.join(refs.filter((r): r is ResourceRef => !!r), p, ctx(burstId));
    } catch (e) {
      // A failed burst still tears down, as the saga would; its calls count all the same.
      error = (e as Error).message.slice(0, 160);
    } finally {
      phase = 'teardown';
      for (let i = plan.steps.length - 1; i >= 0; i--) await awsEc2Plugin.teardown(plan.steps[i]!, refs[i], p, ctx(burstId));
    }
  } finally {
    off();
  }
  const wallMs = performance.now() - t0;
  const motoByAction = diff(await moto.calls(), before);

  const byAction: Record<string, number> = {};
  for (const per of Object.values(byPhase)) for (const [k, v] of Object.entries(per)) byAction[k] = (byAction[k] ?? 0) + v;
  let createTerminate = 0;
  let tagging = 0;
  let describe = 0;
  let other = 0;
  for (const [a, n] of Object.entries(byAction)) {
    if (CREATE_TERMINATE.has(a)) createTerminate += n;
    else if (TAGGING.has(a)) tagging += n;
    else if (a.startsWith('Describe')) describe += n;
    else other += n;
  }

  // Outside the counted window, with a client of our own (not the plugin's cached one).
  const c = new EC2Client({ region: REGION, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  let leftInstances = 0;
  const leftOther: string[] = [];
  try {
    const r = await c.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:fluxburst:burst-id', Values: [burstId] }, { Name: 'instance-state-name', Values: [...NOT_GONE_STATES] }] }),
    );
    leftInstances = (r.Reservations ?? []).reduce((a, x) => a + (x.Instances?.length ?? 0), 0);
    const lts = await c.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'tag:fluxburst:burst-id', Values: [burstId] }] }));
    for (const t of lts.LaunchTemplates ?? []) leftOther.push(`launch template ${t.LaunchTemplateName}`);
    const fl = await c.send(new DescribeFleetsCommand({}));
    for (const f of fl.Fleets ?? []) {
      if (!/deleted/.test(f.FleetState ?? '') && f.Tags?.some((t) => t.Key === 'fluxburst:burst-id' && t.Value === burstId)) leftOther.push(`fleet ${f.FleetId}`);
    }
  } finally {
    c.destroy();
  }
  return {
    nodes,
    capacityType,
    byAction,
    byPhase,
    createTerminate,
    tagging,
    describe,
    other,
    total: sum(byAction),
    motoTotal: sum(motoByAction),
    motoByAction,
    leftInstances,
    leftOther,
    wallMs,
    ...(error ? { error } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The bench itself

const fmtActions = (r: Record<string, number>) =>
  Object.entries(r)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_EC2_NODES ?? '10,100,1000').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0 && n <= 1000);
  const kinds = (process.env.BENCH_EC2_CAPACITY ?? 'on-demand,spot').split(',').filter((k): k is AwsEc2Params['capacityType'] => ['on-demand', 'spot', 'spot-then-on-demand'].includes(k));
  // owned()/ec2Client without credentials fall back to the SDK chain; keep it off any real account.
  process.env.AWS_ACCESS_KEY_ID = CREDS.AWS_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = CREDS.AWS_SECRET_ACCESS_KEY;
  const moto = await startMoto();
  const results: BurstCalls[] = [];
  try {
    const base = await motoBase(moto.endpoint);
    for (const kind of kinds) {
      for (const n of sizes) {
        process.stderr.write(`burst: ${kind}, ${n} nodes...\n`);
        results.push(await measureBurst(moto, base, n, kind, `bench-${kind}-${n}-${Date.now().toString(36)}`));
      }
    }
  } finally {
    await moto.stop();
  }

  const head = ['nodes', 'capacity', 'create/terminate', 'target', '', 'CreateTags', 'describe (prov/join/tear)', 'total', 'moto', 'left', 'wall s'];
  const rows = results.map((r) => {
    const d = (ph: Phase) => Object.entries(r.byPhase[ph]).filter(([a]) => a.startsWith('Describe')).reduce((a, [, v]) => a + v, 0);
    return [
      String(r.nodes),
      r.capacityType,
      String(r.createTerminate),
      `≤ ${target(r.nodes)}`,
      r.error ? 'FAILED' : r.createTerminate <= target(r.nodes) ? 'MET' : 'MISSED',
      String(r.tagging),
      `${r.describe} (${d('provision')}/${d('join')}/${d('teardown')})`,
      String(r.total),
      r.motoTotal === r.total ? `${r.motoTotal} ✓` : `${r.motoTotal} ≠`,
      r.leftInstances === 0 && r.leftOther.length === 0 ? 'none' : `${r.leftInstances} inst ${r.leftOther.join(', ')}`,
      (r.wallMs / 1000).toFixed(1),
    ];
  });
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  console.log('\nEC2 API calls per burst (aws-ec2 plugin on patched moto; counted by SDK middleware, cross-checked with moto)\n');
  console.log(line(head));
  console.log(line(w.map((n) => '-'.repeat(n))));
  for (const r of rows) console.log(line(r));
  console.log(
    '\ncreate/terminate = ' + [...CREATE_TERMINATE].join(', ') + ' (target ⌈nodes/500⌉ + 3).' +
      '\nCreateTags is counted apart: it makes no resource; each node name is a distinct tag value and one call sets one value, so it is one call per node.' +
      '\ndescribe = Describe* (provision lookups / join polling every pollSeconds=0.2 s / teardown lookups). moto = EC2 requests moto saw in the same window (✓ = equal).',
  );
  for (const r of results) console.log(`  ${r.capacityType} ${r.nodes}: ${fmtActions(r.byAction)}${r.error ? `\n    FAILED: ${r.error}` : ''}`);
  console.log(JSON.stringify({ bench: 'ec2-calls', results: results.map(({ byPhase: _p, motoByAction: _m, ...r }) => ({ ...r, target: target(r.nodes), met: !r.error && r.createTerminate <= target(r.nodes) })) }));
  // Something left behind is a bug, not a figure.
  if (results.some((r) => r.leftInstances > 0 || r.leftOther.length > 0)) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
