import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { InputError } from '../../src/core/errors.js';
import type { TargetChoice } from '../../src/core/types.js';
import { applyExecutionPlan, applyExecutionPlanToConfig, type LoadedPlan, parseExecutionPlan, planPathFrom, readExecutionPlan } from '../../src/plugins/aws-ec2/execution-plan.js';
import { awsEc2Params } from '../../src/plugins/aws-ec2/params.js';
import { loadRegistry, type PluginRegistry } from '../../src/plugins/registry.js';
import { ROOT } from '../support/harness.js';

let reg: PluginRegistry;
let dir: string;
beforeAll(async () => {
  reg = await loadRegistry({ searchPaths: [] });
  dir = mkdtempSync(join(tmpdir(), 'fb-xplan-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const awsTarget = (extra: Record<string, unknown> = {}): TargetChoice => ({
  name: 'aws',
  plugin: 'aws-ec2',
  params: awsEc2Params.parse({ region: 'us-east-1', imageId: 'ami-0123abcd', subnetIds: ['subnet-0123'], ...extra }) as Record<string, unknown>,
});
const localTarget = (): TargetChoice => ({ name: 'here', plugin: 'local', params: reg.get('local').params.parse({}) as Record<string, unknown> });
const plan = (raw: unknown): LoadedPlan => parseExecutionPlan(raw, 'plan.json');

/** The InputError a call throws, with its issues as `path: message` lines. */
function issuesOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected an InputError');
}

describe('execution plan schema', () => {
  it('reads the shipped example (an ASBA/ASBX-shaped plan)', async () => {
    const { plan: p } = await readExecutionPlan(join(ROOT, 'examples/execution-plan.json'));
    expect(p.instance_specification?.instance_types).toEqual(['c5n.18xlarge', 'c6i.32xlarge']);
    expect(p.instance_specification?.purchasing_option).toBe('mixed');
    expect(p.should_burst).toBe(true);
    expect(p.execution_metadata?.asba_version).toBe('0.3.0');
  });

  it('names the file and every bad field', () => {
    const lines = issuesOf(() =>
      plan({
        instance_count: 0,
        instance_specification: { instance_types: [], purchasing_option: 'cheap' },
        network_configuration: { placement_group_typ: 'cluster' },
      }),
    );
    expect(lines).toEqual([
      expect.stringMatching(/^plan\.json: instance_count: /),
      'plan.json: instance_specification.instance_types: name at least one instance type',
      expect.stringMatching(/^plan\.json: instance_specification\.purchasing_option: Invalid option/),
      'plan.json: network_configuration.placement_group_typ: unknown field (not in the schema)',
    ]);
  });

  it('refuses EFA without a cluster placement group, and two launch templates', () => {
    expect(issuesOf(() => plan({ mpi_configuration: { requires_efa: true }, network_configuration: { placement_group_type: 'spread' } }))).toEqual([
      'plan.json: network_configuration.placement_group_type: EFA traffic needs a cluster placement group',
    ]);
    expect(issuesOf(() => plan({ instance_specification: { instance_types: ['c5.large'], launch_template_name: 'a', launch_template_id: 'lt-1' } }))[0]).toMatch(/launch_template_id: give launch_template_name or launch_template_id/);
  });

  it('reports an unreadable file and bad JSON as the file\'s problem', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"instance_count": 2,');
    await expect(readExecutionPlan(bad)).rejects.toThrow(new RegExp(`invalid execution plan ${bad}:\\n  - ${bad}: \\(root\\): not JSON`));
    await expect(readExecutionPlan(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: \(file\): cannot read/);
  });

  it('takes the plan path from the flag, else $SLURM_FLUXBURST_PLAN', () => {
    expect(planPathFrom('a.json', { SLURM_FLUXBURST_PLAN: 'b.json' })).toBe('a.json');
    expect(planPathFrom(undefined, { SLURM_FLUXBURST_PLAN: 'b.json' })).toBe('b.json');
    expect(planPathFrom(undefined, {})).toBeUndefined();
  });
});

describe('applyExecutionPlan on aws-ec2', () => {
  it('overrides types, count, capacity, placement, EFA, gang, strategy, subnets and price', () => {
    const t = applyExecutionPlan(
      awsTarget({ instanceType: 'c5.large', capacityType: 'on-demand' }),
      plan({
        instance_count: 4,
        instance_specification: { instance_types: ['c5n.18xlarge', 'c6i.32xlarge'], purchasing_option: 'mixed', max_spot_price: 3.5, allocation_strategy: 'capacity-optimized', subnet_ids: ['subnet-0a1b'] },
        mpi_configuration: { requires_gang_scheduling: true, requires_efa: true, mpi_implementation: 'openmpi' },
        network_configuration: { placement_group_type: 'cluster', enhanced_networking: true },
      }),
      reg,
    );
    expect(t.name).toBe('aws');
    expect(t.params).toMatchObject({
      instanceTypes: ['c5n.18xlarge', 'c6i.32xlarge'],
      nodes: 4,
      capacityType: 'spot-then-on-demand',
      maxPrice: 3.5,
      allocationStrategy: 'capacity-optimized',
      subnetIds: ['subnet-0a1b'],
      gang: true,
      efa: true,
      placementGroup: true,
      region: 'us-east-1',
      imageId: 'ami-0123abcd',
    });
    // The forced single type of the target would have won over the plan's list.
    expect(t.params.instanceType).toBeUndefined();
  });

  it('maps all-spot and all-on-demand to those capacity types and leaves unset fields alone', () => {
    const spec = (o: string) => plan({ instance_specification: { instance_types: ['c5.large'], purchasing_option: o } });
    expect(applyExecutionPlan(awsTarget(), spec('spot'), reg).params.capacityType).toBe('spot');
    expect(applyExecutionPlan(awsTarget(), spec('on-demand'), reg).params.capacityType).toBe('on-demand');
    const kept = applyExecutionPlan(awsTarget({ capacityType: 'on-demand', placementGroup: true }), plan({ instance_count: 2 }), reg).params;
    expect(kept).toMatchObject({ capacityType: 'on-demand', placementGroup: true, nodes: 2, subnetIds: ['subnet-0123'] });
  });

  it('fails on the plan field when the plugin\'s own params schema refuses the result', () => {
    expect(issuesOf(() => applyExecutionPlan(awsTarget(), plan({ instance_count: 5000, instance_specification: { instance_types: ['c5.large', 'bigbox'], subnet_ids: ['net-1'] } }), reg))).toEqual([
      'plan.json: instance_specification.subnet_ids[0]: a subnet id (plugin aws-ec2 param subnetIds[0])',
      'plan.json: instance_specification.instance_types[1]: an EC2 instance type like c5.xlarge (plugin aws-ec2 param instanceTypes[1])',
      expect.stringMatching(/^plan\.json: instance_count: .*1000.*\(plugin aws-ec2 param nodes\)$/),
    ]);
    // User data goes through the plugin's secret check too.
    expect(issuesOf(() => applyExecutionPlan(awsTarget(), plan({ instance_specification: { instance_types: ['c5.large'], user_data: 'export AWS_SECRET_ACCESS_KEY=x' } }), reg))[0]).toMatch(
      /^plan\.json: instance_specification\.user_data: userData seems to contain AWS secret credentials/,
    );
  });

  it('refuses what it cannot honour instead of ignoring it', () => {
    expect(
      issuesOf(() =>
        applyExecutionPlan(
          awsTarget(),
          plan({
            should_burst: false,
            instance_specification: { instance_types: ['c5.large'], launch_template_name: 'asbx-lt' },
            network_configuration: { placement_group_type: 'partition', placement_group_name: 'pg', availability_zones: ['us-east-1a'] },
          }),
          reg,
        ),
      ),
    ).toEqual([
      'plan.json: should_burst: the plan says not to burst',
      'plan.json: instance_specification.launch_template_name: fluxburst builds its own launch template per burst; put the image and user data in the target params',
      'plan.json: network_configuration.placement_group_type: plugin aws-ec2 makes cluster placement groups only, not partition',
      'plan.json: network_configuration.placement_group_name: fluxburst names (and deletes) its own placement group per burst',
      'plan.json: network_configuration.availability_zones: choose zones through instance_specification.subnet_ids (one subnet per zone)',
    ]);
    expect(issuesOf(() => applyExecutionPlan(awsTarget(), plan({ network_configuration: { single_az_required: true } }), reg))[0]).toMatch(/single_az_required: one zone needs/);
    expect(applyExecutionPlan(awsTarget(), plan({ network_configuration: { single_az_required: true, placement_group_type: 'cluster' } }), reg).params.placementGroup).toBe(true);
  });
});

describe('applyExecutionPlan on local', () => {
  it('takes instance_count as nodes and ignores provenance', () => {
    const t = applyExecutionPlan(localTarget(), plan({ instance_count: 3, execution_metadata: { job_id: '7' }, mpi_configuration: { is_mpi_job: true, process_count: 12 } }), reg);
    expect(t.params.nodes).toBe(3);
    expect(t.plugin).toBe('local');
  });

  it('says which fields do not apply to plugin local', () => {
    expect(
      issuesOf(() =>
        applyExecutionPlan(localTarget(), plan({ instance_specification: { instance_types: ['c5.large'] }, mpi_configuration: { requires_efa: true }, network_configuration: { placement_group_type: 'cluster' } }), reg),
      ),
    ).toEqual([
      'plan.json: instance_specification: does not apply to plugin local (target here); only instance_count does',
      'plan.json: mpi_configuration.requires_efa: does not apply to plugin local (target here); only instance_count does',
      'plan.json: network_configuration.placement_group_type: does not apply to plugin local (target here); only instance_count does',
    ]);
  });

  it('fails on instance_count when local\'s params refuse the size', () => {
    expect(issuesOf(() => applyExecutionPlan(localTarget(), plan({ instance_count: 500 }), reg))).toEqual([expect.stringMatching(/^plan\.json: instance_count: .*256.*\(plugin local param nodes\)$/)]);
  });
});

describe('applyExecutionPlanToConfig', () => {
  const yaml = [
    'targets:',
    '  - {plugin: local, name: here}',
    '  - {plugin: aws-ec2, name: aws, params: {region: us-east-1, imageId: ami-0123abcd, subnetIds: [subnet-0123]}}',
    'limits: {maxCostPerHour: 10, maxSpend: 500}',
  ].join('\n');

  it('keeps only the plan\'s target (default: the first aws-ec2 one) and lowers the limits', () => {
    const config = parseConfig(yaml, 'test', reg);
    const out = applyExecutionPlanToConfig(config, reg, plan({ instance_specification: { instance_types: ['c5.large'] }, cost_constraints: { max_cost_per_hour: 20, max_total_cost: 100 } }));
    expect(out.targets.map((t) => (t as { name?: string }).name)).toEqual(['aws']);
    expect((out.targets[0] as { params: Record<string, unknown> }).params.instanceTypes).toEqual(['c5.large']);
    expect(out.limits).toMatchObject({ maxCostPerHour: 10, maxSpend: 100 });
    const local = applyExecutionPlanToConfig(config, reg, plan({ target: 'here', instance_count: 2 }));
    expect((local.targets[0] as { params: Record<string, unknown> }).params.nodes).toBe(2);
  });

  it('names the target field when the config has no such target', () => {
    const config = parseConfig(yaml, 'test', reg);
    expect(issuesOf(() => applyExecutionPlanToConfig(config, reg, plan({ target: 'gcp' })))).toEqual(['plan.json: target: no target named "gcp" in the config (targets: here, aws)']);
  });
});
