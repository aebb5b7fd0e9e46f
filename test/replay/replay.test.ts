import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleOptions } from '../../workers/worker.js';
import { ROOT } from '../support/harness.js';

// Histories of real bursts and a watch loop (scripts/record-histories.ts), replayed against today's workflow code:
// a change that would break a running burst on upgrade fails here first.
const dir = join(ROOT, 'test', 'replay', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const history = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));

let bundle: { code: string };
const mutant = join(ROOT, 'test', '.artifacts', `mutant-${process.pid}`);

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    /* installed */
  }
  bundle = await bundleWorkflowCode({ ...bundleOptions(), workflowsPath: join(ROOT, 'workflows', 'index.ts') });
});
afterAll(() => rmSync(mutant, { recursive: true, force: true }));

describe('recorded histories replay on the current workflow code', () => {
  it('has the recorded paths', () => {
    expect(files.sort()).toEqual(['burst-v2-completed.json', 'burst-v2-continued.json', 'burst-v2-interrupted.json', 'cancelled.json', 'completed.json', 'fault-provision.json', 'interrupted.json', 'watch.json']);
  });
  for (const f of files) {
    it(f, async () => {
      await Worker.runReplayHistory({ workflowBundle: bundle }, history(f), f);
    });
  }
});

it('a non-deterministic change to the workflow fails replay', async () => {
  // Copy the workflow sources, insert a timer before the first activity, and bundle that.
  mkdirSync(mutant, { recursive: true });
  cpSync(join(ROOT, 'workflows'), join(mutant, 'workflows'), { recursive: true });
  cpSync(join(ROOT, 'src', 'core'), join(mutant, 'src', 'core'), { recursive: true });
  cpSync(join(ROOT, 'src', 'burst'), join(mutant, 'src', 'burst'), { recursive: true });
  cpSync(join(ROOT, 'activities'), join(mutant, 'activities'), { recursive: true });
  // The recorded bursts predate batching: they replay through the frozen workflows/legacy/burst-v1.ts.
  const burst = join(mutant, 'workflows', 'legacy', 'burst-v1.ts');
  const src = readFileSync(burst, 'utf8');
  const changed = src
    .replace("} from '@temporalio/workflow';", "  sleep as mutantSleep,\n} from '@temporalio/workflow';")
    .replace("      setPhase('select');", "      await mutantSleep('1 second');\n      setPhase('select');");
  expect(changed).not.toBe(src);
  writeFileSync(burst, changed);
  const broken = await bundleWorkflowCode({ ...bundleOptions(), workflowsPath: join(mutant, 'workflows', 'index.ts') });
  const err = await Worker.runReplayHistory({ workflowBundle: broken }, history('completed.json'), 'completed').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DeterminismViolationError);
});
