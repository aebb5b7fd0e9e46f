// The aws-ec2 plugin as the registry sees it: name, params and sizing load at once; the parts
// that talk to EC2 (and the AWS SDK, ~350 ms to load) only when a burst first calls them — so
// `fluxburst slurm resume` and every other CLI command start without it.
import { definePlugin } from '../contract.js';
import { AWS_EC2_DESCRIPTION, awsEc2Params, type AwsEc2Params } from './params.js';
import { estimate, shapeOf } from './sizing.js';

type Impl = (typeof import('./plugin.js'))['awsEc2Plugin'];
let impl: Promise<Impl> | undefined;
const load = (): Promise<Impl> => (impl ??= import('./plugin.js').then((m) => m.awsEc2Plugin));

export const awsEc2Plugin = definePlugin<AwsEc2Params>({
  name: 'aws-ec2',
  description: AWS_EC2_DESCRIPTION,
  params: awsEc2Params,
  estimate,
  shape: shapeOf,
  preflight: async (...a) => (await load()).preflight!(...a),
  plan: async (...a) => (await load()).plan(...a),
  provision: async (...a) => (await load()).provision(...a),
  join: async (...a) => (await load()).join(...a),
  releaseNode: async (...a) => (await load()).releaseNode!(...a),
  interruptions: async (...a) => (await load()).interruptions!(...a),
  teardown: async (...a) => (await load()).teardown(...a),
  owned: async (...a) => (await load()).owned(...a),
  destroy: async (...a) => (await load()).destroy!(...a),
});
export { awsEc2Params, type AwsEc2Params } from './params.js';
