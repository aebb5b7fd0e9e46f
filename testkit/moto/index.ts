// The moto launcher (testkit/moto/launcher.py) as a child process: shared by the tests
// (test/ imports it from here) and by the benches, which run from dist/ where a path
// relative to this file would point into dist/. The root is therefore found, not computed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { projectRoot } from '../../src/temporal/paths.js';

const root = projectRoot();
// FLUXBURST_MOTO_PYTHON: another interpreter (a test points it at a missing one to see the suite fail).
const pythonPath = (): string => process.env.FLUXBURST_MOTO_PYTHON ?? join(root, '.tools', 'venv', 'bin', 'python');
const launcher = join(root, 'testkit', 'moto', 'launcher.py');

export type CapacityType = 'spot' | 'on-demand';
export type CapacityErrorCode =
  | 'InsufficientInstanceCapacity'
  | 'MaxSpotInstanceCountExceeded'
  | 'Unsupported'
  | 'InstanceLimitExceeded';

/** A capacity pool made unavailable (until clearCapacity()). Omitted fields match any value. */
export interface UnavailableCapacity {
  instanceType: string;
  availabilityZone?: string;
  capacityType?: CapacityType;
  errorCode: CapacityErrorCode;
  /** Instances that may still launch in the pool before it fails (default 0). */
  available?: number;
}

export interface Moto {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  stop(): Promise<void>;
  /** moto reset + our state (capacity rules, call counts, pending interruptions). */
  reset(): Promise<void>;
  unavailable(o: UnavailableCapacity): Promise<void>;
  clearCapacity(): Promise<void>;
  /** Spot request -> marked-for-termination now; instance shutting-down/terminated after the delay (default 2 s). */
  interrupt(instanceId: string, terminateAfterSeconds?: number): Promise<void>;
  /** The next `times` calls of `action` fail with `errorCode`; with `after` (default) moto did the call first. */
  fault(o: { action: string; errorCode?: string; delayMs?: number; status?: number; after?: boolean; times?: number }): Promise<void>;
  clearFaults(): Promise<void>;
  /** Instances fleets launch from now on stay `pending` this long (0: running at once). */
  boot(seconds: number): Promise<void>;
  /** Calls per EC2 action (e.g. { CreateFleet: 1 }) since start or reset. */
  calls(): Promise<Record<string, number>>;
}

export const motoAvailable = (): boolean => existsSync(pythonPath()) && existsSync(launcher);

/**
 * Throws, naming what is missing, unless moto can start: a test that needs moto fails without it
 * instead of quietly doing less (the suite has no skips).
 */
export function requireMoto(): void {
  const missing = [pythonPath(), launcher].filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`moto cannot start: ${missing.join(' and ')} missing (scripts/setup.sh --test installs it)`);
}

/** Start testkit/moto/launcher.py on a port it binds itself; resolves once it printed READY <port>. */
export async function startMoto(opts: { timeoutMs?: number } = {}): Promise<Moto> {
  requireMoto();
  const python = pythonPath();
  // The launcher binds port 0 and says which port it got: no port picked here and handed over later.
  const child: ChildProcess = spawn(python, [launcher], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never outlive the process that started it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const port = await new Promise<number>((resolveReady, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`moto launcher not READY after ${opts.timeoutMs ?? 60_000} ms\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^READY (\d+)\n/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveReady(Number(m[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`moto launcher exited (${code ?? signal}) before READY\n${stderr}`));
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;

  async function control(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${endpoint}/_fluxburst/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`moto control ${method} ${path}: HTTP ${res.status} ${text}`);
    return text ? JSON.parse(text) : {};
  }

  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        child.kill('SIGTERM');
      }),
    reset: async () => {
      await control('POST', 'reset');
    },
    unavailable: async (o) => {
      await control('POST', 'capacity', o);
    },
    clearCapacity: async () => {
      await control('DELETE', 'capacity');
    },
    interrupt: async (instanceId, terminateAfterSeconds) => {
      await control('POST', 'interrupt', { instanceId, ...(terminateAfterSeconds === undefined ? {} : { terminateAfterSeconds }) });
    },
    fault: async (o) => {
      await control('POST', 'fault', o);
    },
    clearFaults: async () => {
      await control('DELETE', 'fault');
    },
    boot: async (seconds) => {
      await control('POST', 'boot', { seconds });
    },
    calls: async () => (await control('GET', 'calls')) as Record<string, number>,
  };
}

/** An EC2 client for a moto endpoint (us-east-1, dummy static credentials, 2 attempts). */
export function ec2Client(endpoint: string): EC2Client {
  return new EC2Client({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 2,
  });
}

/**
 * aws-ec2 params for a fresh moto: a VPC with two /20 subnets (room for 1,000 instances; a /24
 * would run out of addresses), a security group and an AMI. `tag` keeps names apart when one
 * moto serves several callers.
 */
export async function motoBase(endpoint: string, tag = 'bench'): Promise<Record<string, unknown>> {
  const region = 'us-east-1';
  const c = new EC2Client({ region, endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  try {
    const vpc = await c.send(new CreateVpcCommand({ CidrBlock: '10.7.0.0/16' }));
    const vpcId = vpc.Vpc!.VpcId!;
    const s1 = await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.7.0.0/20', AvailabilityZone: `${region}a` }));
    const s2 = await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.7.16.0/20', AvailabilityZone: `${region}b` }));
    const sg = await c.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: `fluxburst-${tag}`, Description: tag }));
    const images = await c.send(new DescribeImagesCommand({}));
    const imageId = images.Images?.find((i) => i.ImageId?.startsWith('ami-'))?.ImageId;
    if (!imageId) throw new Error('moto lists no AMI');
    return { region, endpoint, imageId, subnetIds: [s1.Subnet!.SubnetId!, s2.Subnet!.SubnetId!], securityGroupIds: [sg.GroupId!] };
  } finally {
    c.destroy();
  }
}
