// Slurm power saving with EC2 nodes: the real slurmctld calls fluxburst's ResumeProgram, the
// burst launches one EC2 instance per Slurm node name (real @aws-sdk/client-ec2 against our moto
// launcher) from a launch template, and registers the instance's address with slurmctld, as
// ParallelCluster's resume does. moto's instances boot nothing, so no slurmd registers: at
// ResumeTimeout slurmctld calls ResumeFailProgram and the burst takes everything away.
import { DescribeInstancesCommand, DescribeLaunchTemplatesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TAG_BURST, TAG_NODE } from '../../src/plugins/aws-ec2/tags.js';
import type { SlurmNodesStatus } from '../../workflows/messages.js';
import { CLI, address, client, startWorker, uid, waitFor, workdir } from '../support/harness.js';
import { ec2Client, type Moto, motoBase, startMoto } from '../../testkit/moto/index.js';
import { powerSaveWrappers, type Slurm, startSlurm, stopMunge } from '../../testkit/slurm/local-cluster.js';

const TQ = uid('tq-slurmec2');
const name = `e${Date.now().toString(36)}`;
const dir = workdir('slurmec2');
let moto: Moto;
let ec2: EC2Client;
let slurm: Slurm;
let w: Awaited<ReturnType<typeof startWorker>>;


beforeAll(async () => {
  moto = await startMoto();
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  ec2 = ec2Client(moto.endpoint);
  const params = { ...(await motoBase(moto.endpoint, 'slurm-ec2')), instanceTypes: ['c5.large'], capacityType: 'on-demand', pollSeconds: 0.2 };
  writeFileSync(join(dir, 'fb.yaml'), `name: ${name}\nowner: slurmec2\ntargets:\n  - plugin: aws-ec2\n    params: ${JSON.stringify(params)}\ntemporal: { taskQueue: ${TQ} }\n`);
  w = await startWorker(TQ);
  slurm = await startSlurm({ cloudNodes: 1, ...powerSaveWrappers(dir, { cli: CLI, env: { TEMPORAL_ADDRESS: address(), FLUXBURST_CONFIG: join(dir, 'fb.yaml'), AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' } }), suspendTime: 5, resumeTimeout: 15 });
  writeFileSync(join(dir, 'conf-path'), slurm.conf);
}, 120_000);

// Registered first, so it runs last: this file's munged outlives every Slurm it served, then stops.
afterAll(() => stopMunge());
afterAll(async () => {
  await slurm?.stop();
  await w?.stop();
  await moto?.stop();
});

it('a cloud job resumes an EC2 node named by Slurm, registered at its address; a node that never registers is taken away', async () => {
  const job = slurm.sbatch('#!/bin/sh\ntrue\n', 'cloud');
  const c = await client();
  const h = c.workflow.getHandle(`slurm-${name}-cloud1`);
  // The burst launched the node with Slurm's name and told slurmctld where it is.
  const inst = await waitFor(async () => {
    const r = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAG_NODE}`, Values: ['cloud1'] }, { Name: 'instance-state-name', Values: ['running'] }] }));
    return (r.Reservations ?? []).flatMap((x) => x.Instances ?? [])[0];
  }, 60_000, 'an instance for cloud1');
  expect(inst.Tags?.find((t) => t.Key === TAG_BURST)?.Value).toBe(h.workflowId);
  const show = await waitFor(() => {
    const out = slurm.scontrol(['show', 'node', 'cloud1']);
    return out.includes(`NodeAddr=${inst.PrivateIpAddress}`) ? out : undefined;
  }, 30_000, 'cloud1 registered at the instance address');
  expect(show).toContain(`NodeHostName=${inst.PrivateDnsName!.split('.')[0]}`);
  spawnSync('/usr/bin/scancel', [job], { env: { ...process.env, ...slurm.env } });

  // No slurmd ever answers from moto: at ResumeTimeout Slurm gives up and fluxburst tears down.
  const r = (await h.result()) as SlurmNodesStatus;
  expect(r.released).toEqual(['cloud1']);
  const left = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAG_BURST}`, Values: [h.workflowId] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] }));
  expect((left.Reservations ?? []).flatMap((x) => x.Instances ?? [])).toEqual([]);
  const lts = await ec2.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: `tag:${TAG_BURST}`, Values: [h.workflowId] }] }));
  expect(lts.LaunchTemplates ?? []).toEqual([]);
}, 150_000);
