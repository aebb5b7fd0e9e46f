// The built-in cloud plugins load their SDKs on first use through a lazy wrapper; the wrapper
// must declare exactly the optional methods the implementation has (the burst decides at plan
// time whether a plugin runs jobs or reports interruptions from what the wrapper shows).
import { describe, expect, it } from 'vitest';
import type { Plugin } from '../../src/plugins/contract.js';
import { awsEc2Plugin as awsLazy } from '../../src/plugins/aws-ec2/index.js';
import { gkePlugin as gkeLazy } from '../../src/plugins/gke/index.js';
import { kubernetesPlugin as kubeLazy } from '../../src/plugins/kubernetes/index.js';
import { lazyPlugin } from '../../src/plugins/lazy.js';

const methods = (p: Plugin) => Object.keys(p).filter((k) => typeof (p as unknown as Record<string, unknown>)[k] === 'function').sort();

describe('lazy plugin wrappers', () => {
  for (const [name, lazy, load] of [
    ['aws-ec2', awsLazy, async () => (await import('../../src/plugins/aws-ec2/plugin.js')).awsEc2Plugin],
    ['kubernetes', kubeLazy, async () => (await import('../../src/plugins/kubernetes/plugin.js')).kubernetesPlugin],
    ['gke', gkeLazy, async () => (await import('../../src/plugins/gke/plugin.js')).gkePlugin],
  ] as const) {
    it(`${name}: the wrapper offers exactly the implementation's methods`, async () => {
      const impl = (await load()) as Plugin;
      expect(methods(lazy)).toEqual(methods(impl));
      expect(lazy.params).toBe(impl.params);
    });
  }

  it('forwards calls with their arguments, and names a declared method the implementation lacks', async () => {
    const impl = { name: 'x', description: 'x', params: {} as never, estimate: () => ({ unfit: 'n/a' }), plan: async (jobs: unknown[]) => ({ n: jobs.length }) } as unknown as Plugin;
    const p = lazyPlugin({ name: 'x', description: 'x', params: impl.params, estimate: impl.estimate }, async () => impl, ['plan', 'destroy']);
    expect(await p.plan([{}, {}] as never, {}, {} as never)).toEqual({ n: 2 });
    await expect(p.destroy!({} as never, {}, {} as never)).rejects.toThrow(/plugin x declares destroy but its implementation has none/);
    expect(p.run).toBeUndefined();
  });
});
