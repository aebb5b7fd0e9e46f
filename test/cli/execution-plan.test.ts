import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT, address, cli, client, uid } from '../support/harness.js';

// `--plan FILE` (an aws-slurm-burst / ASBA execution plan) on validate and burst --dry-run.
let dir: string;
let config: string;
let bad: string;
const plan = join(ROOT, 'examples/execution-plan.json');
const owner = uid('xplan-owner');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fb-xplan-cli-'));
  writeFileSync(join(dir, 'jobs.yaml'), '- {id: mpi, command: [echo, hi], nodes: 2, burstable: true}\n');
  config = join(dir, 'fb.yaml');
  writeFileSync(
    config,
    [
      'name: xplan',
      'jobs: jobs.yaml',
      'targets:',
      `  - {plugin: local, name: here, params: {workdir: ${join(dir, 'nodes')}}}`,
      '  - {plugin: aws-ec2, name: aws, params: {region: us-east-1, imageId: ami-0123abcd, subnetIds: [subnet-0123], instanceTypes: [c5.large], capacityType: on-demand}}',
      '',
    ].join('\n'),
  );
  bad = join(dir, 'bad-plan.json');
  writeFileSync(bad, JSON.stringify({ instance_specification: { instance_types: ['c5n.18xlarge'], purchasing_option: 'cheap' } }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('validate --plan: config and plan together, one ok line', () => {
  const r = cli(['validate', '--config', config, '--plan', plan], {}, dir);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  expect(r.stdout).toMatch(/^ok: .*targets=\["aws"\].* plan=.*execution-plan\.json/);
});

it('validate --plan with a bad plan exits 2 naming the file and the field', () => {
  const r = cli(['validate', '--config', config, '--plan', bad], {}, dir);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain(`${bad}: instance_specification.purchasing_option: Invalid option`);
});

it('validate --plan refuses plan fields the target plugin cannot take', () => {
  const local = join(dir, 'local-plan.json');
  writeFileSync(local, JSON.stringify({ target: 'here', instance_count: 2, network_configuration: { placement_group_type: 'cluster' } }));
  const r = cli(['validate', '--config', config, '--plan', local], {}, dir);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`${local}: network_configuration.placement_group_type: does not apply to plugin local`);
});

it('burst --plan --dry-run prints the overridden target and starts no workflow', async () => {
  // --no-preflight: the target's AMI and subnets are made up and there is no EC2 here (test/integration/ec2-burst.test.ts runs the DryRun checks on moto).
  const text = cli(['burst', '--config', config, '--plan', plan, '--dry-run', '--no-preflight', '--owner', owner, '--address', address()], {}, dir);
  expect(text.stderr).toBe('');
  expect(text.code).toBe(0);
  // The name counts the burst's nodes (the plan's instance_count: 4), not the job's 2.
  expect(text.stdout).toMatch(/dry run: would start burst xplan-4n-[0-9a-f]{8}: 1 job\(s\) on aws \(4 × c5n\.18xlarge, ~\$[\d.]+\/h/);
  expect(text.stdout).toContain('"instanceTypes":["c5n.18xlarge","c6i.32xlarge"]');
  expect(text.stdout).toContain('dry run: 1 burst(s), nothing started');

  const r = cli(['burst', '--json', '--config', config, '--plan', plan, '--dry-run', '--no-preflight', '--owner', owner, '--address', address()], {}, dir);
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { dryRun: boolean; bursts: Array<{ burstId: string; target: string; nodes: number; chain: Array<{ name: string; params: Record<string, unknown> }> }> };
  expect(out.dryRun).toBe(true);
  expect(out.bursts).toHaveLength(1);
  const b = out.bursts[0]!;
  expect(b).toMatchObject({ target: 'aws', nodes: 4 });
  expect(b.chain.map((c) => c.name)).toEqual(['aws']);
  expect(b.chain[0]!.params).toMatchObject({ instanceTypes: ['c5n.18xlarge', 'c6i.32xlarge'], capacityType: 'spot-then-on-demand', placementGroup: true, efa: true, gang: true, maxPrice: 3.5, nodes: 4 });

  const c = await client();
  await expect(c.workflow.getHandle(b.burstId).describe()).rejects.toThrow(/not found/i);
  await c.connection.close();
});
