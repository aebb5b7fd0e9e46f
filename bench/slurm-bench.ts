// Slurm power-save benchmark: (1) how long ResumeProgram (`fluxburst slurm resume`) takes from
// start to exit for 100 nodes, as Slurm calls it (one group per job, from SLURM_RESUME_FILE);
// (2) job submit → RUNNING on a cloud node that fluxburst resumes (local plugin), against the same
// job on a static node of the same cluster, in the same run. Prints medians, the ratio, the
// target (ResumeProgram < 1 s at 100 nodes) and one JSON line. Exits 0 either way.
//
//   npm run build && node dist/bench/slurm-bench.js        (needs scripts/setup.sh --test: Slurm)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { loadRegistry } from '../src/plugins/registry.js';
import { startSlurm } from '../testkit/slurm/local-cluster.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { projectRoot } from '../src/temporal/paths.js';
import { freePort } from '../src/temporal/ports.js';
import { createBurstWorker } from '../workers/worker.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const NODES = 100;
const CLI = join(projectRoot(), 'bin', 'fluxburst.js');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'fb-slurmbench-'));
const state = mkdtempSync(join(tmpdir(), 'fb-slurmbench-state-'));
const nodesDir = mkdtempSync(join(tmpdir(), 'fb-slurmbench-nodes-'));
const port = await freePort();
const { child: server } = await startDevServer({ stateDir: state, port, headless: true });
const address = `127.0.0.1:${port}`;
const TQ = 'slurm-bench';
const { worker, connection } = await createBurstWorker({ connection: { address, namespace: 'default', taskQueue: TQ }, registry: await loadRegistry() });
const running = worker.run();
const client = new Client({ connection: await Connection.connect({ address }) });

const cfg = (file: string, name: string, queue: string) =>
  writeFileSync(file, `name: ${name}\nowner: bench\ntargets:\n  - plugin: local\n    params: { workdir: ${nodesDir} }\ntemporal: { taskQueue: ${queue} }\n`);
const wrapper = (verb: string) => {
  const path = join(dir, `${verb}.sh`);
  writeFileSync(
    path,
    `#!/bin/sh\nexport TEMPORAL_ADDRESS=${address} FLUXBURST_CONFIG=${join(dir, 'fb.yaml')} PATH=/usr/sbin:/usr/bin:/bin\nexec ${process.execPath} ${CLI} slurm ${verb} "$@" --slurm-conf "$(cat ${join(dir, 'conf-path')})" >> ${join(dir, `${verb}.log`)} 2>&1\n`,
    { mode: 0o755 },
  );
  return path;
};
cfg(join(dir, 'fb.yaml'), 'bench', TQ);
const slurm = await startSlurm({ cloudNodes: NODES, resumeProgram: wrapper('resume'), suspendProgram: wrapper('suspend'), resumeFailProgram: wrapper('resume-fail'), suspendTime: 5, resumeTimeout: 60 });
writeFileSync(join(dir, 'conf-path'), slurm.conf);

try {
  // (1) ResumeProgram for 100 nodes, 100 one-node jobs, as slurmctld calls it. Its workflows go to
  // a task queue no worker polls: this measures the program, not the boot (which it must not wait for).
  const resumeMs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const resumeFile = join(dir, `resume-${r}.json`);
    writeFileSync(resumeFile, JSON.stringify({ jobs: Array.from({ length: NODES }, (_, i) => ({ job_id: 1000 + i, nodes: `cloud${i + 1}` })), all_nodes: `cloud[1-${NODES}]` }));
    const conf = join(dir, `fb-idle-${r}.yaml`);
    cfg(conf, `idle${r}`, `${TQ}-unpolled`);
    const t = performance.now();
    const p = spawnSync(process.execPath, [CLI, 'slurm', 'resume', `cloud[1-${NODES}]`, '--slurm-conf', slurm.conf], {
      env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: address, FLUXBURST_CONFIG: conf, SLURM_RESUME_FILE: resumeFile },
      encoding: 'utf8',
    });
    resumeMs.push(performance.now() - t);
    if (p.status !== 0) throw new Error(`resume failed: ${p.stderr}`);
    const started = p.stdout.split('\n').filter((l) => l.endsWith(': started')).length;
    if (started !== NODES) throw new Error(`resume started ${started} workflows, expected ${NODES}`);
  }
  for await (const w of client.workflow.list({ query: `WorkflowType = 'slurmNodesWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${TQ}-unpolled'` })) {
    await client.workflow.getHandle(w.workflowId).terminate('benchmark cleanup');
  }

  // (2) submit → RUNNING: a cloud node fluxburst resumes vs the static node, alternating.
  const state = (id: string) => (JSON.parse(slurm.squeue()) as { jobs: { job_id: number; job_state: string }[] }).jobs.find((j) => String(j.job_id) === id)?.job_state;
  const untilRunning = async (id: string) => {
    const t = performance.now();
    for (;;) {
      const s = state(id);
      if (s === 'RUNNING' || s === 'COMPLETED') return performance.now() - t;
      if (performance.now() - t > 120_000) throw new Error(`job ${id} not running after 120 s (${s})`);
      await sleep(100);
    }
  };
  await slurm.startSlurmd('static1');
  const cloudMs: number[] = [];
  const staticMs: number[] = [];
  for (let r = 0; r < 3; r++) {
    staticMs.push(await untilRunning(slurm.sbatch('#!/bin/sh\nsleep 1\n', 'static')));
    cloudMs.push(await untilRunning(slurm.sbatch('#!/bin/sh\nsleep 1\n', 'cloud')));
    // Each cloud run resumes a powered-down node: wait for the last one to be suspended again.
    const t = performance.now();
    while (/\b(idle|alloc|mix|completing)\b(?![~%])/.test(slurm.sinfo(['-h', '-p', 'cloud', '-o', '%T'])) && performance.now() - t < 90_000) await sleep(500);
  }

  const r50 = median(resumeMs);
  const c50 = median(cloudMs);
  const s50 = median(staticMs);
  const out = [
    '',
    `=== Slurm power save (${NODES} cloud nodes, Slurm 22.05, local plugin) ===`,
    `ResumeProgram start → exit, ${NODES} one-node jobs: median ${r50.toFixed(0)} ms (runs: ${resumeMs.map((x) => x.toFixed(0)).join(', ')})   target < 1000 ms: ${r50 < 1000 ? 'MET' : 'MISSED'}`,
    `submit → RUNNING, cloud node resumed by fluxburst: median ${(c50 / 1000).toFixed(1)} s (${cloudMs.map((x) => (x / 1000).toFixed(1)).join(', ')})`,
    `submit → RUNNING, static node: median ${(s50 / 1000).toFixed(1)} s (${staticMs.map((x) => (x / 1000).toFixed(1)).join(', ')})`,
    `ratio cloud / static: ${(c50 / s50).toFixed(2)}`,
    JSON.stringify({ bench: 'fluxburst-slurm', nodes: NODES, resumeMs: { median: +r50.toFixed(1), runs: resumeMs.map((x) => +x.toFixed(1)) }, submitToRunningMs: { cloud: +c50.toFixed(0), static: +s50.toFixed(0), ratio: +(c50 / s50).toFixed(2) }, target: { resumeMs: 1000, met: r50 < 1000 } }),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await slurm.stop();
  worker.shutdown();
  await running;
  await connection.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  for (const d of [dir, state, nodesDir]) rmSync(d, { recursive: true, force: true });
}
