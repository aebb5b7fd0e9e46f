// The Flux follow activities (activities/flux.ts) against a real flux-core lead with two burst
// slots (testkit/flux/lead.ts): outcomes with return codes and exception notes, a SIGKILLed
// broker under a running job reported as a node failure, drain/undrain, resubmission that a retry
// does not repeat. No flux → fails (never skips), saying how to get one.
import { readFileSync, writeFileSync } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFluxActivities } from '../../activities/flux.js';
import type { SourceSpec } from '../../src/core/types.js';
import { hostsIn, jobStates } from '../../src/flux/jobs.js';
import { fluxIdToDecimal } from '../../src/jobs/flux-source.js';
import { type FluxLead, startFluxLead } from '../../testkit/flux/lead.js';

let lead: FluxLead;
let savedUri: string | undefined;
const acts = createFluxActivities();
let source: SourceSpec;
const env = new MockActivityEnvironment();
const act = <T>(fn: () => Promise<T>): Promise<T> => env.run(fn) as Promise<T>;

beforeAll(async () => {
  lead = await startFluxLead({ slots: 2 });
  // The activities read FLUX_URI from the worker's environment, as in production.
  savedUri = process.env.FLUX_URI;
  process.env.FLUX_URI = lead.uri;
  source = { kind: 'flux', flux: lead.flux };
});
afterAll(async () => {
  if (savedUri === undefined) delete process.env.FLUX_URI;
  else process.env.FLUX_URI = savedUri;
  const left = await lead?.stop();
  expect(left).toEqual({ processes: [], dir: false });
});

const submit = async (...args: string[]) => fluxIdToDecimal((await lead.run(['submit', ...args])).trim());
const cli = () => ({ flux: lead.flux, env: lead.env });

describe('followFluxJobs', () => {
  it('reports COMPLETED / FAILED / CANCELED with return code and exception, in one call per poll', async () => {
    const ok = await submit('true');
    const bad = await submit('sh', '-c', 'exit 3');
    const long = await submit('sleep', '60');
    // While the long job runs, a follow of it alone waits out waitSeconds and shows where it runs.
    for (let i = 0; i < 50 && (await jobStates(cli(), [long])).states[0]?.state !== 'RUN'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const idle = await act(() => acts.followFluxJobs({ source, ids: [long], waitSeconds: 1.5, pollMs: 200 }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1200);
    expect(idle).toEqual({ done: [], running: [{ id: long, nodelist: 'lead' }] });

    const seen = new Map<string, unknown>();
    for (let i = 0; i < 20 && seen.size < 2; i++) {
      const r = await act(() => acts.followFluxJobs({ source, ids: [ok, bad, long], waitSeconds: 10, pollMs: 100 }));
      for (const d of r.done) seen.set(d.id, d);
    }
    expect(seen.get(ok)).toEqual({ id: ok, result: 'COMPLETED', returncode: 0, nodelist: 'lead', nodeFailure: false });
    expect(seen.get(bad)).toEqual({ id: bad, result: 'FAILED', returncode: 3, nodelist: 'lead', nodeFailure: false });
    expect(seen.has(long)).toBe(false);

    await lead.run(['cancel', '--message=no longer needed', long]);
    const r = await act(() => acts.followFluxJobs({ source, ids: [long], waitSeconds: 10, pollMs: 100 }));
    expect(r.done).toEqual([
      {
        id: long,
        result: 'CANCELED',
        returncode: 143,
        exception: { type: 'cancel', note: 'no longer needed' },
        nodelist: 'lead',
        nodeFailure: false,
      },
    ]);
  });

  it('the fast path (flux job list-ids, C) reads every state and outcome as flux jobs (Python) does', async () => {
    const ids = [await submit('true'), await submit('sh', '-c', 'exit 5'), await submit('sh', '-c', 'kill -9 $$')];
    for (const id of ids) await lead.run(['job', 'wait-event', id, 'clean']);
    const sleeping = await submit('sleep', '30');
    await lead.run(['job', 'wait-event', sleeping, 'start']);
    ids.push(await submit('-N3', 'true'), sleeping); // the -N3 job waits for the burst slots
    try {
      // Which command answered: a flux that logs its argv, then runs the real one.
      const log = `${lead.dir}/argv.log`;
      const wrapper = `${lead.dir}/flux-logged`;
      writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${log}\nexec ${lead.flux} "$@"\n`, { mode: 0o755 });
      const fast = await jobStates({ flux: wrapper, env: lead.env }, ids);
      const slow = await jobStates(cli(), ids, 'flux-jobs');
      const byId = (x: typeof fast) => [...x.states].sort((a, b) => a.id.localeCompare(b.id));
      expect(byId(fast)).toEqual(byId(slow));
      expect(fast.states.map((s) => s.state).sort()).toEqual(['INACTIVE', 'INACTIVE', 'INACTIVE', 'RUN', 'SCHED']);
      expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([`job list-ids ${ids.join(' ')}`]);
      // An unknown id among them: the chunk goes the flux jobs way, and the id is unknown.
      const mixed = await jobStates({ flux: wrapper, env: lead.env }, [ids[0]!, '1234567']);
      expect(mixed.unknown).toEqual(['1234567']);
      expect(mixed.states.map((s) => s.id)).toEqual([ids[0]]);
    } finally {
      await lead.run(['cancel', ids[3]!, ids[4]!]);
    }
  });

  it('a job Flux does not know is reported done, not waited for forever', async () => {
    const r = await act(() => acts.followFluxJobs({ source, ids: ['1234567'], waitSeconds: 5 }));
    expect(r.done).toMatchObject([{ id: '1234567', result: 'FAILED', exception: { type: 'unknown' }, nodeFailure: false }]);
  });

  it('a burst broker SIGKILLed under a running job: FAILED with nodeFailure; drain, resubmit (once per attempt), undrain', async () => {
    const b = await lead.startBroker('burst-1');
    await lead.waitOnline(['burst-1']);
    const id = await submit('-N2', '--setattr=system.burstable=1', '--job-name=twonode', 'sleep', '20');
    for (let i = 0; i < 100 && (await jobStates(cli(), [id])).states[0]?.state !== 'RUN'; i++) await new Promise((r) => setTimeout(r, 100));
    const running = await act(() => acts.followFluxJobs({ source, ids: [id], waitSeconds: 0.2 }));
    expect(running.running).toEqual([{ id, nodelist: 'lead,burst-1' }]);

    await b.stop('SIGKILL');
    const r = await act(() => acts.followFluxJobs({ source, ids: [id], waitSeconds: 30, pollMs: 200 }));
    expect(r.done).toHaveLength(1);
    expect(r.done[0]).toMatchObject({ id, result: 'FAILED', nodeFailure: true, exception: { type: 'exec' } });
    expect(r.done[0]!.exception!.note).toMatch(/node failure on burst-1 \(rank 2\)/);

    // drain is idempotent and keeps the first reason; the host shows drained at the lead.
    await act(() => acts.drainFluxNodes({ source, hosts: ['burst-1'], reason: 'lost by fluxburst' }));
    await act(() => acts.drainFluxNodes({ source, hosts: ['burst-1'], reason: 'again' }));
    expect(await hostsIn(cli(), 'drained')).toEqual(['burst-1']);
    const reason = await lead.run(['resource', 'drain', '-no', '{reason}']);
    expect(reason.trim()).toBe('lost by fluxburst');

    // resubmit: a new job with the original jobspec; the same attempt again finds it.
    const first = await act(() => acts.resubmitFluxJob({ source, id, attempt: 1 }));
    expect(first.newId).not.toBe(id);
    const again = await act(() => acts.resubmitFluxJob({ source, id, attempt: 1 }));
    expect(again.newId).toBe(first.newId);
    const spec = JSON.parse(await lead.run(['job', 'info', first.newId, 'jobspec'])) as {
      tasks: Array<{ command: string[] }>;
      resources: unknown;
      attributes: { system: Record<string, unknown> };
    };
    const orig = JSON.parse(await lead.run(['job', 'info', id, 'jobspec'])) as typeof spec;
    expect(spec.tasks[0]!.command).toEqual(['sleep', '20']);
    expect(spec.resources).toEqual(orig.resources);
    expect(spec.attributes.system.burstable).toBeUndefined(); // a watch must not burst it again
    expect(spec.attributes.system['burst-scheduled']).toBe('fluxburst');
    expect(spec.attributes.system.fluxburst).toEqual({ resubmitOf: `${id}.1` });
    const jobs = JSON.parse(await lead.run(['jobs', '--json', '-a', '--name=twonode'])) as { jobs: unknown[] };
    expect(jobs.jobs).toHaveLength(2);

    // The replacement broker joins; undrain (twice: idempotent) lets the resubmitted job run there.
    await lead.startBroker('burst-1');
    await lead.waitOnline(['burst-1']);
    await act(() => acts.undrainFluxNodes({ source, hosts: ['burst-1'] }));
    await act(() => acts.undrainFluxNodes({ source, hosts: ['burst-1'] }));
    expect(await hostsIn(cli(), 'drained')).toEqual([]);
    for (let i = 0; i < 100 && (await jobStates(cli(), [first.newId])).states[0]?.state !== 'RUN'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const now = await act(() => acts.followFluxJobs({ source, ids: [first.newId], waitSeconds: 0.2 }));
    expect(now.running).toEqual([{ id: first.newId, nodelist: 'lead,burst-1' }]);
    await lead.run(['cancel', first.newId]);
  });

  it('refuses a source that is not Flux, naming the field', async () => {
    await expect(act(() => acts.drainFluxNodes({ source: { kind: 'file', path: 'x' }, hosts: ['a'], reason: 'r' }))).rejects.toThrow(
      /source\.kind/,
    );
  });
});
