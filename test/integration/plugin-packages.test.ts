import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workdir } from '../support/workdirs.js';
import { PluginLoadError } from '../../src/core/errors.js';
import { findPluginPackages, loadPluginPackage, loadRegistry } from '../../src/plugins/registry.js';
import { ROOT, cli, client, historyText, input, job, result, start, startWorker, uid } from '../support/harness.js';

const GOOD = join(ROOT, 'test', 'fixtures', 'plugins', 'node_modules');
const BAD = join(ROOT, 'test', 'fixtures', 'bad-plugins', 'node_modules');

describe('plugin discovery: installed fluxburst-plugin-<name> packages', () => {
  it('finds and loads a real package, next to the built-ins', async () => {
    const reg = await loadRegistry({ searchPaths: [GOOD] });
    expect(reg.names()).toEqual(['local', 'aws-ec2', 'kubernetes', 'gke', 'echo']);
    expect(reg.list().find((p) => p.plugin.name === 'echo')!.origin).toBe('package fluxburst-plugin-echo');
  });

  it('`fluxburst plugins` lists it, with its params schema, when FLUXBURST_PLUGIN_PATH points there', () => {
    const r = cli(['plugins', '--json'], { FLUXBURST_PLUGIN_PATH: GOOD });
    expect(r.code).toBe(0);
    const echo = JSON.parse(r.stdout).find((p: { name: string }) => p.name === 'echo');
    expect(echo.origin).toBe('package fluxburst-plugin-echo');
    expect(Object.keys(echo.params.properties).sort()).toEqual(['ledger', 'nodes']);
  });

  it('refuses a package missing a contract method, naming the package and the method', async () => {
    const found = findPluginPackages([BAD]).sort((a, b) => a.pkg.localeCompare(b.pkg));
    expect(found.map((f) => f.pkg)).toEqual(['@acme/fluxburst-plugin-misnamed', 'fluxburst-plugin-broken']);
    const broken = found.find((f) => f.pkg === 'fluxburst-plugin-broken')!;
    await expect(loadPluginPackage(broken.pkg, broken.dir)).rejects.toThrow(/fluxburst-plugin-broken.*lacks method "teardown"/);
    const misnamed = found.find((f) => f.pkg.includes('misnamed'))!;
    await expect(loadPluginPackage(misnamed.pkg, misnamed.dir)).rejects.toBeInstanceOf(PluginLoadError);
    await expect(loadPluginPackage(misnamed.pkg, misnamed.dir)).rejects.toThrow(/named "other" but the package name says "misnamed"/);
  });

  it('a bad installed plugin is a clear error from the CLI, not a crash', () => {
    const r = cli(['plugins'], { FLUXBURST_PLUGIN_PATH: BAD });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*fluxburst-plugin-/m);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace for a known error
  });
});

describe('a burst through a third-party plugin', () => {
  const TQ = uid('tq-pkg');
  let w: Awaited<ReturnType<typeof startWorker>>;
  beforeAll(async () => {
    w = await startWorker(TQ, { registry: await loadRegistry({ searchPaths: [GOOD] }) });
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('runs select → plan → provision → join → run → teardown on the package', async () => {
    const ledger = join(workdir('echo'), 'ledger');
    writeFileSync(ledger, '');
    const c = await client();
    const inp = input([job('e1', { command: ['say', 'hi'] })], {}, { targets: [{ name: 'echo', plugin: 'echo', params: { ledger, nodes: 2 } }] });
    const h = await start(c, TQ, uid('echo'), inp);
    const r = await result(h);
    expect(r.status.plugin).toBe('echo');
    expect(r.status.target).toBe('echo');
    expect(r.status.jobs[0]!.result!.tasks[0]!.stdout).toBe('say hi\n');
    const id = h.workflowId;
    expect(readFileSync(ledger, 'utf8').trim().split('\n')).toEqual([
      `provision ${id} echo-0`,
      `provision ${id} echo-1`,
      'join echo-0,echo-1',
      'run e1',
      `teardown ${id} echo-1`,
      `teardown ${id} echo-0`,
    ]);
  });

  it('credentials reach the plugin on the worker by reference; their values never enter the history', async () => {
    const secret = `sekrit-${uid('tok')}`;
    const fileSecret = `filesekrit-${uid('f')}`;
    const dir = workdir('cred');
    writeFileSync(join(dir, 'key'), `${fileSecret}\n`);
    writeFileSync(join(dir, 'ledger'), '');
    process.env.FB_TEST_TOKEN = secret; // this process hosts the worker
    const c = await client();
    const creds = { TOKEN: { env: 'FB_TEST_TOKEN' }, KEY: { file: join(dir, 'key') } };
    const inp = input([job('e1')], {}, { targets: [{ name: 'echo', plugin: 'echo', params: { ledger: join(dir, 'ledger') }, credentials: creds }] });
    const h = await start(c, TQ, uid('cred'), inp);
    const r = await result(h);
    expect(r.status.jobs[0]!.result!.tasks[0]!.stderr).toBe(`credentials TOKEN:${secret.length},KEY:${fileSecret.length}\n`);
    const history = historyText(await h.fetchHistory());
    expect(history).toContain('FB_TEST_TOKEN'); // the reference travels
    expect(history).not.toContain(secret); // the value does not
    expect(history).not.toContain(fileSecret);
  });

  it('a credential missing on the worker fails the burst with a clear error naming it', async () => {
    const dir = workdir('cred');
    writeFileSync(join(dir, 'ledger'), '');
    delete process.env.FB_TEST_UNSET;
    const c = await client();
    const inp = input([job('e1')], {}, { targets: [{ name: 'echo', plugin: 'echo', params: { ledger: join(dir, 'ledger') }, credentials: { TOKEN: { env: 'FB_TEST_UNSET' } } }] });
    const h = await start(c, TQ, uid('cred'), inp);
    const err = await h.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(/failed at provision: invalid credentials:\s+- credentials\.TOKEN: environment variable FB_TEST_UNSET is not set on this host/);
  });
});
