// One launch template per burst, named from the burst id: create-or-find, so a retried activity
// (or one whose worker died after EC2 answered) ends with the same template.
import {
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeInstanceTypesCommand,
  DescribeLaunchTemplatesCommand,
  type EC2Client,
  type LaunchTemplate,
  type RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import { createHash } from 'node:crypto';
import { ec2, ec2Code, ec2Delete, isNotFound } from './errors.js';
import type { AwsEc2Params } from './params.js';
import { burstTags, ec2Name } from './tags.js';

export const launchTemplateName = (burstId: string): string => ec2Name('fluxburst', burstId);

/** Fill the join template's placeholders. Unknown placeholders are left as they are. */
export function renderUserData(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (m, k: string) => vars[k] ?? m);
}

/** Which of these types support EFA (DescribeInstanceTypes NetworkInfo.EfaSupported). */
export async function efaSupport(client: EC2Client, types: string[]): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  for (let i = 0; i < types.length; i += 100) {
    const chunk = types.slice(i, i + 100);
    const r = await ec2('DescribeInstanceTypes', () => client.send(new DescribeInstanceTypesCommand({ InstanceTypes: chunk as never })));
    for (const t of r.InstanceTypes ?? []) if (t.InstanceType) out.set(t.InstanceType, t.NetworkInfo?.EfaSupported === true);
  }
  for (const t of types) if (!out.has(t)) out.set(t, false);
  return out;
}

export async function findLaunchTemplate(client: EC2Client, name: string): Promise<LaunchTemplate | undefined> {
  try {
    const r = await client.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [name] }));
    return r.LaunchTemplates?.[0];
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export interface LaunchTemplateInput {
  burstId: string;
  owner: string;
  /** Attach an EFA interface (the caller checked the types support it). */
  efa: boolean;
}

export function launchTemplateData(p: AwsEc2Params, i: LaunchTemplateInput): RequestLaunchTemplateData {
  const tags = burstTags(p, i.burstId, i.owner);
  const data: RequestLaunchTemplateData = {
    ImageId: p.imageId,
    ...(p.keyName ? { KeyName: p.keyName } : {}),
    ...(p.iamInstanceProfile ? { IamInstanceProfile: p.iamInstanceProfile.startsWith('arn:') ? { Arn: p.iamInstanceProfile } : { Name: p.iamInstanceProfile } } : {}),
    // IMDSv2 only. (Tags in IMDS stay off: they would forbid '/' and spaces in user tag keys.)
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ],
  };
  if (i.efa) {
    // With an interface spec the security groups go on the interface; the fleet's subnet
    // override fills in its subnet.
    data.NetworkInterfaces = [{ DeviceIndex: 0, InterfaceType: 'efa', DeleteOnTermination: true, ...(p.securityGroupIds.length ? { Groups: p.securityGroupIds } : {}) }];
  } else if (p.securityGroupIds.length) {
    data.SecurityGroupIds = p.securityGroupIds;
  }
  if (p.userData) {
    const text = renderUserData(p.userData, { burstId: i.burstId, owner: i.owner, region: p.region });
    data.UserData = Buffer.from(text, 'utf8').toString('base64');
  }
  return data;
}

/** Create the burst's launch template, or return the one an earlier try made. */
export async function ensureLaunchTemplate(client: EC2Client, p: AwsEc2Params, i: LaunchTemplateInput): Promise<{ id: string; name: string; created: boolean }> {
  const name = launchTemplateName(i.burstId);
  const found = await ec2('DescribeLaunchTemplates', () => findLaunchTemplate(client, name));
  if (found?.LaunchTemplateId) return { id: found.LaunchTemplateId, name, created: false };
  const tags = burstTags(p, i.burstId, i.owner);
  try {
    const r = await client.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        ClientToken: createHash('sha256').update(`lt|${i.burstId}`).digest('hex').slice(0, 64),
        VersionDescription: `fluxburst burst ${i.burstId}`,
        LaunchTemplateData: launchTemplateData(p, i),
        TagSpecifications: [{ ResourceType: 'launch-template', Tags: tags }],
      }),
    );
    return { id: r.LaunchTemplate!.LaunchTemplateId!, name, created: true };
  } catch (e) {
    // A concurrent or earlier try won the race.
    if (ec2Code(e) === 'InvalidLaunchTemplateName.AlreadyExistsException') {
      const again = await ec2('DescribeLaunchTemplates', () => findLaunchTemplate(client, name));
      if (again?.LaunchTemplateId) return { id: again.LaunchTemplateId, name, created: false };
    }
    return ec2('CreateLaunchTemplate', () => Promise.reject(e));
  }
}

/** Delete the burst's template (found by name, deleted by id); already gone is success. */
export async function deleteLaunchTemplate(client: EC2Client, name: string): Promise<boolean> {
  const found = await ec2('DescribeLaunchTemplates', () => findLaunchTemplate(client, name));
  if (!found?.LaunchTemplateId) return false;
  return ec2Delete(`DeleteLaunchTemplate ${name}`, () => client.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: found.LaunchTemplateId })));
}
