import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleOptions } from '../../workers/worker.js';
import { ROOT } from '../support/harness.js';

// docs/versioning.md in practice: a change that adds a command (a timer before the first scan of
// the watch loop, before the first activity of a burst) replays the histories recorded before it
// when it is behind patched(), and breaks them when it is not — or when its patch is deprecated
// while such runs are still open. Each variant is made on a copy of the sources, never on
// workflows/ itself.

const histories = join(ROOT, 'test', 'replay', 'histories');
const history = (f: string) => JSON.parse(readFileSync(join(histories, f), 'utf8'));
const work = join(ROOT, 'test', '.artifacts', `versioning-${process.pid}`);

beforeAll(() => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    /* installed */
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Change {
  /** The workflow source, relative to workflows/. */
  file: string;
  /** A statement the change goes before (must occur exactly once). */
  anchor: string;
  /** The new command(s), indented like the anchor. */
  code: string;
}

type Variant = 'patched' | 'unguarded' | 'deprecated';

/** Bundle a copy of the workflow sources with `change` applied in the given form. */
async function bundleVariant(name: string, change: Change, variant: Variant): Promise<{ code: string }> {
  const dir = join(work, name, variant);
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'workflows'), join(dir, 'workflows'), { recursive: true });
  cpSync(join(ROOT, 'src', 'core'), join(dir, 'src', 'core'), { recursive: true });
  cpSync(join(ROOT, 'src', 'burst'), join(dir, 'src', 'burst'), { recursive: true });
  cpSync(join(ROOT, 'activities'), join(dir, 'activities'), { recursive: true });
  const file = join(dir, 'workflows', change.file);
  const src = readFileSync(file, 'utf8');
  expect(src.split(change.anchor).length - 1, `"${change.anchor.trim()}" occurs once in ${change.file}`).toBe(1);
  const indent = /^(\s*)/.exec(change.anchor)![1]!;
  const id = `${name}-versioning-test`;
  const guarded =
    variant === 'patched'
      ? `${indent}if (vtPatched('${id}')) {\n${change.code}\n${indent}}\n`
      : variant === 'deprecated'
        ? `${indent}vtDeprecatePatch('${id}');\n${change.code}\n`
        : `${change.code}\n`;
  const changed = src
    .replace(/\} from '@temporalio\/workflow';/, "  patched as vtPatched,\n  deprecatePatch as vtDeprecatePatch,\n  sleep as vtSleep,\n} from '@temporalio/workflow';")
    .replace(change.anchor, `${guarded}${change.anchor}`);
  writeFileSync(file, changed);
  return bundleWorkflowCode({ ...bundleOptions(), workflowsPath: join(dir, 'workflows', 'index.ts'), logger: new DefaultLogger('ERROR') });
}

const replay = (bundle: { code: string }, file: string) =>
  Worker.runReplayHistory({ workflowBundle: bundle }, history(file), file).then(
    () => undefined,
    (e: unknown) => e,
  );

const cases: { name: string; history: string; change: Change }[] = [
  {
    // The long-running loop: its runs live up to 200 scans before continue-as-new.
    name: 'watch',
    history: 'watch.json',
    change: { file: 'watch.ts', anchor: '    let scan;\n', code: "      await vtSleep('1 second');" },
  },
  {
    name: 'burst',
    history: 'completed.json',
    change: { file: 'legacy/burst-v1.ts', anchor: "      setPhase('select');\n", code: "        await vtSleep('1 second');" },
  },
  {
    // The batched burst (workflows/burst.ts), recorded after the burst-v2 patch.
    name: 'burst-v2',
    history: 'burst-v2-completed.json',
    change: { file: 'burst.ts', anchor: "  b.setPhase('plan');\n", code: "    await vtSleep('1 second');" },
  },
];

for (const c of cases) {
  describe(`${c.name}: a new timer in a copy of workflows/${c.change.file}, replayed on ${c.history}`, () => {
    it('the recorded history is one of the replayed ones', () => {
      expect(history(c.history).events?.length).toBeGreaterThan(10);
    });

    it('behind patched(): the old history replays without a determinism error', async () => {
      const err = await replay(await bundleVariant(c.name, c.change, 'patched'), c.history);
      expect(err).toBeUndefined();
    });

    it('unguarded: the same change fails replay with DeterminismViolationError', async () => {
      const err = await replay(await bundleVariant(c.name, c.change, 'unguarded'), c.history);
      expect(err).toBeInstanceOf(DeterminismViolationError);
    });

    it('deprecatePatch() while pre-patch runs are open fails too (why the lifecycle waits)', async () => {
      const err = await replay(await bundleVariant(c.name, c.change, 'deprecated'), c.history);
      expect(err).toBeInstanceOf(DeterminismViolationError);
    });
  });
}
