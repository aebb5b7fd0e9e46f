// `--dry-run` on EC2: ask EC2 itself whether the launch would be allowed, with DryRun, so a
// missing permission, a wrong AMI, subnet or security group is found before anything exists.
import { CreateLaunchTemplateCommand, RunInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { CapacityError, FluxburstError, providerCode } from '../../core/errors.js';
import type { Job } from '../../core/types.js';
import { ec2Code } from './errors.js';
import { launchTemplateData, launchTemplateName } from './launch-template.js';
import type { AwsEc2Params } from './params.js';
import { burstType, fleetTypes } from './sizing.js';

/** The EC2 calls checked and how each answered: "DryRunOperation" means it would have succeeded. */
export interface PreflightCheck {
  call: string;
  ok: boolean;
  code: string;
  message?: string;
}

async function dryRun(what: string, send: () => Promise<unknown>): Promise<PreflightCheck> {
  try {
    await send();
    // EC2 never succeeds a DryRun; an endpoint that did has ignored the flag.
    return { call: what, ok: false, code: 'DryRunIgnored', message: 'the endpoint performed the call instead of checking it' };
  } catch (e) {
    const code = ec2Code(e) ?? 'Unknown';
    return code === 'DryRunOperation' ? { call: what, ok: true, code } : { call: what, ok: false, code, message: (e as Error).message };
  }
}

export async function preflight(client: EC2Client, jobs: Job[], p: AwsEc2Params, burstId: string, owner: string): Promise<PreflightCheck[]> {
  const t = burstType(jobs, p);
  if ('unfit' in t) throw new CapacityError(`aws-ec2 in ${p.region}: ${t.unfit}`, 'Unfit');
  const type = fleetTypes(p, t.name)[0]!;
  const data = launchTemplateData(p, { burstId, owner, efa: false });
  const checks = [
    await dryRun('CreateLaunchTemplate', () =>
      client.send(new CreateLaunchTemplateCommand({ DryRun: true, LaunchTemplateName: launchTemplateName(burstId), LaunchTemplateData: data })),
    ),
  ];
  // RunInstances checks what CreateFleet would launch (image, type, subnet, groups, profile) and the permission to launch.
  for (const subnet of p.subnetIds) {
    checks.push(
      await dryRun(`RunInstances ${type} in ${subnet}`, () =>
        client.send(
          new RunInstancesCommand({
            DryRun: true,
            MinCount: 1,
            MaxCount: 1,
            ImageId: p.imageId,
            InstanceType: type as never,
            SubnetId: subnet,
            ...(p.securityGroupIds.length ? { SecurityGroupIds: p.securityGroupIds } : {}),
            ...(p.keyName ? { KeyName: p.keyName } : {}),
            ...(p.iamInstanceProfile ? { IamInstanceProfile: p.iamInstanceProfile.startsWith('arn:') ? { Arn: p.iamInstanceProfile } : { Name: p.iamInstanceProfile } } : {}),
          }),
        ),
      ),
    );
  }
  return checks;
}

/** A failed check as our error: the EC2 code, and what to fix. */
export function preflightError(checks: PreflightCheck[]): FluxburstError | undefined {
  const bad = checks.filter((c) => !c.ok);
  if (!bad.length) return undefined;
  return new FluxburstError(providerCode(bad[0]!.code), `EC2 DryRun refused: ${bad.map((c) => `${c.call}: ${c.code}${c.message ? ` (${c.message})` : ''}`).join('; ')}`, { retryable: false });
}
