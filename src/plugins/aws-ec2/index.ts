// The aws-ec2 plugin as the registry sees it: name, params and sizing load at once; the parts
// that talk to EC2 (and the AWS SDK, ~350 ms to load) only when a burst first calls them — so
// `fluxburst slurm resume` and every other CLI command start without it.
import { lazyPlugin } from '../lazy.js';
import { AWS_EC2_DESCRIPTION, awsEc2Params, type AwsEc2Params } from './params.js';
import { estimate, shapeOf } from './sizing.js';

export const awsEc2Plugin = lazyPlugin<AwsEc2Params>(
  { name: 'aws-ec2', description: AWS_EC2_DESCRIPTION, params: awsEc2Params, estimate, shape: shapeOf },
  async () => (await import('./plugin.js')).awsEc2Plugin,
  ['preflight', 'plan', 'provision', 'join', 'releaseNode', 'interruptions', 'teardown', 'owned', 'destroy'],
);
export { awsEc2Params, type AwsEc2Params } from './params.js';
