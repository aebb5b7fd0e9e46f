import { z } from 'zod';
import { INPUT_LIMITS, readInputFile } from '../../config/read-input.js';
import type { Config, TargetConfig } from '../../config/schema.js';
import { type FieldIssue, InputError } from '../../core/errors.js';
import type { TargetChoice } from '../../core/types.js';
import { toFieldIssues } from '../../core/zod-issues.js';
import { ALLOCATION_STRATEGIES } from './params.js';
import type { PluginRegistry } from '../registry.js';

/**
 * An execution plan: the JSON an advisor (aws-slurm-burst-advisor, "ASBA") writes for
 * `aws-slurm-burst-resume --execution-plan plan.json`. Field names are that format's
 * (pkg/types/execution_plan.go, snake_case) so an ASBA/ASBX plan reads unchanged; fluxburst adds
 * `target`, `instance_count` (ASBA's own name) and `instance_specification.allocation_strategy`.
 *
 * Fields that would change what is launched but that fluxburst cannot honour are refused by name
 * rather than dropped: ASBX silently ignores plan subnets, launch templates and AZs, and a plan
 * that looks obeyed but is not is worse than one that fails.
 */
const loose = z.record(z.string(), z.unknown());

export const executionPlanSchema = z
  .strictObject({
    should_burst: z.boolean().default(true).describe('false: the advisor says not to burst; fluxburst refuses to start.'),
    target: z.string().min(1).optional().describe('fluxburst: the config target the plan applies to (default: the first aws-ec2 target, else the first target).'),
    instance_count: z.number().int().positive().max(10_000).optional().describe('Nodes in the burst (ASBA). Slurm resume: must match the nodes Slurm asked for.'),
    instance_specification: z
      .strictObject({
        instance_types: z.array(z.string().min(1)).min(1, 'name at least one instance type').describe('Types the fleet may launch.'),
        purchasing_option: z.enum(['spot', 'on-demand', 'mixed']).optional().describe('mixed: spot first, on-demand for what spot cannot fill.'),
        max_spot_price: z.number().positive().optional().describe('Highest price per instance-hour, USD.'),
        allocation_strategy: z.enum(ALLOCATION_STRATEGIES).optional().describe('fluxburst: spot allocation strategy.'),
        subnet_ids: z.array(z.string().min(1)).min(1).optional(),
        security_group_ids: z.array(z.string().min(1)).optional(),
        iam_instance_profile: z.string().min(1).optional(),
        user_data: z.string().optional(),
        launch_template_name: z.string().min(1).optional(),
        launch_template_id: z.string().min(1).optional(),
      })
      .optional(),
    mpi_configuration: z
      .strictObject({
        is_mpi_job: z.boolean().optional(),
        process_count: z.number().int().positive().optional(),
        requires_gang_scheduling: z.boolean().optional().describe('All-or-nothing launch.'),
        mpi_implementation: z.string().optional(),
        requires_efa: z.boolean().optional(),
        efa_generation: z.number().int().positive().optional(),
      })
      .optional(),
    cost_constraints: z
      .strictObject({
        max_total_cost: z.number().positive().optional().describe('USD for the whole burst: config limits.maxSpend (the lower wins).'),
        max_duration_hours: z.number().positive().optional(),
        max_cost_per_hour: z.number().positive().optional().describe('USD per hour for the burst: config limits.maxCostPerHour (the lower wins).'),
        prefer_spot: z.boolean().optional(),
        allow_mixed_pricing: z.boolean().optional(),
        cost_alert_threshold: z.number().optional(),
        auto_terminate_hours: z.number().positive().optional(),
      })
      .optional(),
    network_configuration: z
      .strictObject({
        placement_group_type: z.enum(['cluster', 'partition', 'spread', 'none']).optional(),
        placement_group_name: z.string().min(1).optional(),
        enhanced_networking: z.boolean().optional(),
        availability_zones: z.array(z.string().min(1)).optional(),
        single_az_required: z.boolean().optional(),
        network_latency_class: z.string().optional(),
      })
      .optional(),
    // Provenance only (ASBX calls it execution_metadata, ASBA job_metadata).
    execution_metadata: loose.optional(),
    job_metadata: loose.optional(),
    performance_target: loose.optional(),
  })
  .superRefine((p, ctx) => {
    const s = p.instance_specification;
    if (s?.launch_template_name && s.launch_template_id) ctx.addIssue({ code: 'custom', path: ['instance_specification', 'launch_template_id'], message: 'give launch_template_name or launch_template_id, not both' });
    if (p.mpi_configuration?.requires_efa && p.network_configuration?.placement_group_type && p.network_configuration.placement_group_type !== 'cluster') {
      ctx.addIssue({ code: 'custom', path: ['network_configuration', 'placement_group_type'], message: 'EFA traffic needs a cluster placement group' });
    }
  })
  .describe('Execution plan (aws-slurm-burst / ASBA format)');

export type ExecutionPlan = z.output<typeof executionPlanSchema>;

/** A plan with the file it came from, so later errors can name it. */
export interface LoadedPlan {
  path: string;
  plan: ExecutionPlan;
}

function planError(path: string, issues: FieldIssue[]): InputError {
  return new InputError(`execution plan ${path}`, issues.map((i) => ({ path: `${path}: ${i.path}`, message: i.message })));
}

export function parseExecutionPlan(raw: unknown, path = '(plan)'): LoadedPlan {
  const r = executionPlanSchema.safeParse(raw);
  if (!r.success) throw planError(path, toFieldIssues(r.error));
  return { path, plan: r.data };
}

export async function readExecutionPlan(path: string): Promise<LoadedPlan> {
  let text: string;
  try {
    text = readInputFile(path, `execution plan ${path}`, INPUT_LIMITS.plan);
  } catch (e) {
    // Unreadable, endless (/dev/zero) or too big: the reader's reason, in this file's format.
    throw planError(path, [{ path: '(file)', message: e instanceof InputError ? (e.issues[0]?.message ?? e.message) : `cannot read: ${(e as Error).message}` }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw planError(path, [{ path: '(root)', message: `not JSON: ${(e as Error).message}` }]);
  }
  return parseExecutionPlan(raw, path);
}

/** Which plan field each plugin param comes from: plugin param errors are reported on the plan's field. */
const AWS_FIELDS: Record<string, string> = {
  instanceTypes: 'instance_specification.instance_types',
  capacityType: 'instance_specification.purchasing_option',
  maxPrice: 'instance_specification.max_spot_price',
  allocationStrategy: 'instance_specification.allocation_strategy',
  subnetIds: 'instance_specification.subnet_ids',
  securityGroupIds: 'instance_specification.security_group_ids',
  iamInstanceProfile: 'instance_specification.iam_instance_profile',
  userData: 'instance_specification.user_data',
  gang: 'mpi_configuration.requires_gang_scheduling',
  efa: 'mpi_configuration.requires_efa',
  placementGroup: 'network_configuration.placement_group_type',
  nodes: 'instance_count',
};

const PURCHASING: Record<string, string> = { spot: 'spot', 'on-demand': 'on-demand', mixed: 'spot-then-on-demand' };

/** Plan fields that change the launch, as [path, is it set]. */
function launchFields(p: ExecutionPlan): Array<[string, boolean]> {
  const s = p.instance_specification;
  const n = p.network_configuration;
  const m = p.mpi_configuration;
  return [
    ['instance_specification', s !== undefined],
    ['mpi_configuration.requires_gang_scheduling', m?.requires_gang_scheduling !== undefined],
    ['mpi_configuration.requires_efa', m?.requires_efa === true],
    ['network_configuration.placement_group_type', n?.placement_group_type !== undefined && n.placement_group_type !== 'none'],
    ['network_configuration.placement_group_name', n?.placement_group_name !== undefined],
    ['network_configuration.availability_zones', n?.availability_zones !== undefined],
    ['network_configuration.single_az_required', n?.single_az_required === true],
  ];
}

function awsParams(p: ExecutionPlan, issues: FieldIssue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const s = p.instance_specification;
  if (p.instance_count !== undefined) out.nodes = p.instance_count;
  if (s) {
    out.instanceTypes = s.instance_types;
    if (s.purchasing_option) out.capacityType = PURCHASING[s.purchasing_option];
    if (s.max_spot_price !== undefined) out.maxPrice = s.max_spot_price;
    if (s.allocation_strategy) out.allocationStrategy = s.allocation_strategy;
    if (s.subnet_ids) out.subnetIds = s.subnet_ids;
    if (s.security_group_ids) out.securityGroupIds = s.security_group_ids;
    if (s.iam_instance_profile) out.iamInstanceProfile = s.iam_instance_profile;
    if (s.user_data !== undefined) out.userData = s.user_data;
    for (const k of ['launch_template_name', 'launch_template_id'] as const) {
      if (s[k]) issues.push({ path: `instance_specification.${k}`, message: 'fluxburst builds its own launch template per burst; put the image and user data in the target params' });
    }
  }
  const m = p.mpi_configuration;
  if (m?.requires_gang_scheduling !== undefined) out.gang = m.requires_gang_scheduling;
  if (m?.requires_efa !== undefined) out.efa = m.requires_efa;
  const n = p.network_configuration;
  if (n?.placement_group_type === 'cluster') out.placementGroup = true;
  else if (n?.placement_group_type === 'none') out.placementGroup = false;
  else if (n?.placement_group_type) issues.push({ path: 'network_configuration.placement_group_type', message: `plugin aws-ec2 makes cluster placement groups only, not ${n.placement_group_type}` });
  if (n?.placement_group_name) issues.push({ path: 'network_configuration.placement_group_name', message: 'fluxburst names (and deletes) its own placement group per burst' });
  if (n?.availability_zones) issues.push({ path: 'network_configuration.availability_zones', message: 'choose zones through instance_specification.subnet_ids (one subnet per zone)' });
  if (n?.single_az_required && n.placement_group_type !== 'cluster' && (s?.subnet_ids?.length ?? 0) !== 1) {
    issues.push({ path: 'network_configuration.single_az_required', message: 'one zone needs placement_group_type cluster or exactly one subnet in instance_specification.subnet_ids' });
  }
  return out;
}

/**
 * The target with the plan's settings over its params, checked by the plugin's own params schema
 * so a bad combination fails before anything starts.
 */
export function applyExecutionPlan(target: TargetChoice, loaded: LoadedPlan | ExecutionPlan, reg: PluginRegistry): TargetChoice {
  const { path, plan } = 'plan' in loaded ? loaded : { path: '(plan)', plan: loaded };
  const issues: FieldIssue[] = [];
  if (!plan.should_burst) issues.push({ path: 'should_burst', message: 'the plan says not to burst' });
  let over: Record<string, unknown>;
  if (target.plugin === 'aws-ec2') {
    over = awsParams(plan, issues);
  } else {
    // Other plugins have no instance types, capacity types or networks: only the size carries over.
    for (const [field, set] of launchFields(plan)) {
      if (set) issues.push({ path: field, message: `does not apply to plugin ${target.plugin} (target ${target.name}); only instance_count does` });
    }
    over = plan.instance_count !== undefined ? { nodes: plan.instance_count } : {};
  }
  if (issues.length) throw planError(path, issues);
  const params: Record<string, unknown> = { ...target.params, ...over };
  // A forced single type would win over the plan's list.
  if ('instanceTypes' in over) delete params.instanceType;
  const r = reg.get(target.plugin).params.safeParse(params);
  if (!r.success) {
    const fields = target.plugin === 'aws-ec2' ? AWS_FIELDS : { nodes: 'instance_count' };
    throw planError(
      path,
      toFieldIssues(r.error).map((i) => {
        const top = i.path.split(/[.[]/)[0]!;
        const field = (fields as Record<string, string>)[top];
        return field ? { path: field + i.path.slice(top.length), message: `${i.message} (plugin ${target.plugin} param ${i.path})` } : { path: `target ${target.name} params.${i.path}`, message: i.message };
      }),
    );
  }
  return { ...target, params: r.data as Record<string, unknown> };
}

/** The target a plan applies to: the named one, else the first aws-ec2 target, else the first. */
export function planTargetName(config: Config, loaded: LoadedPlan): string {
  const targets = config.targets as TargetConfig[];
  const names = targets.map((t) => t.name ?? t.plugin);
  const want = loaded.plan.target;
  if (want) {
    if (!names.includes(want)) throw planError(loaded.path, [{ path: 'target', message: `no target named "${want}" in the config (targets: ${names.join(', ')})` }]);
    return want;
  }
  const aws = targets.find((t) => t.plugin === 'aws-ec2');
  return aws ? (aws.name ?? aws.plugin) : names[0]!;
}

/**
 * The config a burst with this plan plans against: only the plan's target, its params overridden,
 * and the plan's cost constraints tightening the limits (never loosening them).
 */
export function applyExecutionPlanToConfig(config: Config, reg: PluginRegistry, loaded: LoadedPlan): Config {
  const name = planTargetName(config, loaded);
  const t = (config.targets as TargetConfig[]).find((x) => (x.name ?? x.plugin) === name)!;
  const choice: TargetChoice = { name, plugin: t.plugin, params: t.params };
  const applied = applyExecutionPlan(choice, loaded, reg);
  const c = loaded.plan.cost_constraints;
  const lower = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
  const limits = { ...config.limits };
  const perHour = lower(config.limits.maxCostPerHour, c?.max_cost_per_hour);
  const spend = lower(config.limits.maxSpend, c?.max_total_cost);
  if (perHour !== undefined) limits.maxCostPerHour = perHour;
  if (spend !== undefined) limits.maxSpend = spend;
  const ordering = typeof config.ordering === 'object' ? 'in_order' : config.ordering;
  return { ...config, ordering, limits, targets: [{ ...t, params: applied.params }] as never };
}

/** `--plan FILE`, else $SLURM_FLUXBURST_PLAN (Slurm runs ResumeProgram with no flags but the hostlist). */
export function planPathFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag ?? (env.SLURM_FLUXBURST_PLAN || undefined);
}
