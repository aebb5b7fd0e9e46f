import { z } from 'zod';

export const CAPACITY_TYPES = ['spot', 'on-demand', 'spot-then-on-demand'] as const;
export const ALLOCATION_STRATEGIES = ['price-capacity-optimized', 'capacity-optimized', 'capacity-optimized-prioritized', 'lowest-price', 'diversified'] as const;

/**
 * Things that look like a secret in user data. User data is readable by anyone who can describe
 * the instance or the launch template (and by every process on the node through IMDS), so it
 * must carry only a *reference* (an SSM parameter name, a Secrets Manager ARN, a file path the
 * node reads with its instance role), never the secret itself.
 */
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, 'an AWS access key id'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/\b(aws_secret_access_key|aws_session_token|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)\b/, 'AWS secret credentials'],
  // `token=/ssm/param`, `secret: arn:...`, `password=$(cat /path)` are references; other values are not.
  [/\b(password|passwd|secret|token|api[_-]?key)\s*[=:]\s*(?!["']?(\/|arn:|ssm:|file:|\$))\S+/i, 'an inline secret (`name=value`)'],
  [/\bMUNGE_KEY\b|munge\.key\s*<</i, 'a munge key'],
];

export const userDataSchema = z
  .string()
  .max(12_000)
  .superRefine((s, ctx) => {
    for (const [re, what] of SECRET_PATTERNS) {
      if (re.test(s)) ctx.addIssue({ code: 'custom', message: `userData seems to contain ${what}; pass a reference (SSM parameter name, file path) instead` });
    }
  })
  .describe(
    'Join script template run at boot (cloud-init user data). Placeholders: {{burstId}}, {{owner}}, {{region}}. ' +
      'It is readable through DescribeLaunchTemplateVersions and IMDS, so it must carry only references to secrets ' +
      '(e.g. an SSM parameter name the node reads with its instance role, or a file path baked into the image), never a secret.',
  );

const tagValue = z.string().max(256);
const tagKey = z
  .string()
  .min(1)
  .max(128)
  .refine((k) => !k.startsWith('aws:') && !k.startsWith('fluxburst:'), { message: 'aws: and fluxburst: tag keys are reserved' });

export const awsEc2Params = z
  .strictObject({
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region like us-east-1'),
    endpoint: z.url().optional().describe('EC2 endpoint override (moto, LocalStack, VPC endpoints); default: the regional endpoint.'),
    imageId: z.string().regex(/^ami-[0-9a-f]+$/, 'an AMI id like ami-0123abcd').describe('AMI the nodes boot.'),
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'a subnet id')).min(1).describe('Subnets (one per AZ, usually) the fleet may use.'),
    securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/, 'a security group id')).default([]),
    keyName: z.string().min(1).optional(),
    iamInstanceProfile: z.string().min(1).optional().describe('Instance profile name or ARN (how nodes read the join secret by reference).'),
    instanceTypes: z.array(z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, 'an EC2 instance type like c5.xlarge')).min(1).optional().describe('Only these types; default: the cheapest fitting catalog types.'),
    instanceType: z.string().min(1).optional().describe('One type, forced (a job override); must fit.'),
    arch: z.enum(['x86_64', 'arm64']).optional().describe('Default x86_64 unless the job asks for arm64.'),
    alternatives: z.number().int().min(0).max(20).default(3).describe('Without instanceTypes: how many more fitting catalog types (up to 1.5x the price) the fleet may fall back to.'),
    capacityType: z.enum(CAPACITY_TYPES).default('spot-then-on-demand'),
    allocationStrategy: z.enum(ALLOCATION_STRATEGIES).default('price-capacity-optimized').describe('Spot allocation strategy (on-demand uses lowest-price).'),
    gang: z.boolean().default(true).describe('All-or-nothing: the fleet step fails (and frees what came up) unless every node launches.'),
    placementGroup: z.boolean().default(false).describe('Put the nodes in a cluster placement group (one AZ, one type).'),
    efa: z.boolean().default(false).describe('Attach an Elastic Fabric Adapter (only types with EfaSupported are used).'),
    maxPrice: z.number().positive().optional().describe('Highest price per node-hour, USD: spot max price; on-demand types above it are unfit.'),
    userData: userDataSchema.optional(),
    tags: z.record(tagKey, tagValue).default({}).describe('Extra tags on everything made.'),
    labels: z.record(tagKey, tagValue).optional().describe('Job-override labels, added as tags.'),
    nodes: z.number().int().positive().max(1000).optional().describe('Burst size; default: the largest job.'),
    maxNodes: z.number().int().positive().max(1000).default(64),
    launchTimeoutSeconds: z.number().int().positive().max(3600).default(600).describe('How long join waits for every instance to be running.'),
    pollSeconds: z.number().positive().max(60).default(5).describe('DescribeInstances interval while joining.'),
    replaceInterruptedWith: z
      .enum(['on-demand', 'same'])
      .default('on-demand')
      .describe('Capacity for the replacement of a spot node that got an interruption notice: on-demand (default: the spot pool is short), or the same capacity type again.'),
    interruptionQueueUrl: z
      .url()
      .optional()
      .describe('SQS queue that EventBridge feeds with EC2 spot interruption, rebalance, state-change and AWS Health events; `fluxburst aws interruptions` routes them to the bursts.'),
  })
  .describe('Nodes are EC2 instances launched as one instant EC2 Fleet per burst.');

export type AwsEc2Params = z.output<typeof awsEc2Params>;

/** One description for the lazy definition (index.ts) and the implementation (plugin.ts). */
export const AWS_EC2_DESCRIPTION = 'Nodes are EC2 instances (spot and/or on-demand) launched as one all-or-nothing instant EC2 Fleet per burst.';
