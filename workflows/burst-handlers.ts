// The burst's message handlers: cancel, interruption notices, jobs added on the fly, job ends
// reported by the local scheduler, and the status query. They only record and wake the run loop.
import { setHandler } from '@temporalio/workflow';
import type { Job } from '../src/core/types.js';
import { jobIdProblem } from '../src/core/limits.js';
import type { BurstRun } from './burst-state.js';
import { addJobsUpdate, cancelSignal, interruptionSignal, type JobDone, jobDoneUpdate, statusQuery } from './messages.js';

export interface Handlers {
  /** Reports from the local scheduler, by job id (plugins that do not run jobs themselves). */
  reports: Map<string, JobDone>;
  /** Ids of jobs now waiting for a report. */
  awaiting: Set<string>;
}

export function installHandlers(b: BurstRun, stop: (reason: string) => void): Handlers {
  const reports = new Map<string, JobDone>();
  const awaiting = new Set<string>();
  setHandler(statusQuery, () => b.status());
  setHandler(cancelSignal, ({ reason }) => stop(reason));
  setHandler(interruptionSignal, (n) => {
    b.interrupts.push(n);
    b.touch();
  });
  setHandler(
    jobDoneUpdate,
    (d) => {
      reports.set(d.id, d);
      b.touch();
      return { state: d.exitCode === 0 ? 'completed' : 'failed' };
    },
    {
      validator: (d) => {
        if (!d || typeof d.id !== 'string' || !Number.isInteger(d.exitCode)) throw new Error('a job report needs id and an integer exitCode');
        if (b.choice?.runs !== false) throw new Error(`plugin ${b.choice?.plugin || '(not chosen yet)'} runs jobs itself; reports are for plugins whose nodes join the local scheduler`);
        if (reports.has(d.id)) throw new Error(`job ${d.id} was already reported`);
        const known = [...b.recent.values()].find((j) => j.id === d.id);
        if (known && known.state !== 'pending' && known.state !== 'running') throw new Error(`job ${d.id} is already ${known.state}`);
        if (!known && !b.sched.s.queue.some((j) => j.id === d.id)) throw new Error(`job ${d.id} is not in this burst`);
      },
    },
  );
  setHandler(
    addJobsUpdate,
    (jobs: Job[]) => {
      for (const j of jobs) {
        const i = b.total();
        b.added.push(j);
        b.sched.grow(1);
        b.sched.add([{ i, id: j.id, nodes: j.nodes }]);
      }
      b.touch();
      return { accepted: jobs.map((j) => j.id) };
    },
    {
      validator: (jobs: Job[]) => {
        if (!['provision', 'join', 'run'].includes(b.st.phase)) throw new Error(`burst is in phase ${b.st.phase}; jobs can be added while it provisions or runs`);
        const size = b.st.plan?.nodes ?? 0;
        // Ids this run can see: the whole list when it is inline, else what is loaded and added.
        const ids = new Set<string>([...b.added.map((j) => j.id), ...b.sched.s.queue.map((j) => j.id), ...[...b.recent.values()].map((j) => j.id)]);
        if (b.jobs.kind === 'inline') for (const j of b.jobs.jobs) ids.add(j.id);
        for (const j of jobs) {
          if (!j || typeof j.id !== 'string' || !Array.isArray(j.command) || !(j.nodes >= 1)) throw new Error('each job needs id, nodes >= 1 and command');
          // The same rules as every job source: an id that becomes a path or a route must be safe.
          const bad = jobIdProblem(j.id);
          if (bad) throw new Error(bad);
          if (ids.has(j.id)) throw new Error(`job ${j.id} is already in this burst`);
          if (j.nodes > size) throw new Error(`job ${j.id} needs ${j.nodes} nodes; this burst has ${size}`);
          ids.add(j.id);
        }
      },
    },
  );
  return { reports, awaiting };
}
