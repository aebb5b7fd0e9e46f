import { relative } from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';

/** True when the test was not run because a hook above it (a `beforeAll` of its file or suite) threw. */
function blockedByFailedHook(t: TestCase): boolean {
  if (t.result().state !== 'skipped' || t.options.mode === 'skip' || t.options.mode === 'todo') return false;
  for (let s: TestCase['parent'] | undefined = t.parent; s; s = s.type === 'suite' ? s.parent : undefined) {
    if (s.state() === 'failed' || s.errors().length > 0) return true;
  }
  return false;
}

/**
 * Prints the plain closing line CI reads: "tests: N passed, N failed, N skipped". A test that did
 * not run because its file's or suite's `beforeAll` threw (a missing binary, a server that did not
 * start) counts as failed, never skipped: the suite has no skip markers, so a skip there would hide
 * a failure. Every file with such a failure, or that failed to load, is named on a line of its own.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const broken: string[] = [];
    for (const m of modules) {
      let blocked = 0;
      const tests = [...m.children.allTests()];
      for (const t of tests) {
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failed++;
        else if (blockedByFailedHook(t)) {
          failed++;
          blocked++;
        } else skipped++;
      }
      const file = relative(process.cwd(), m.moduleId);
      if (m.state() === 'failed' && tests.length === 0) {
        failed++; // a file that failed to load
        broken.push(`failed to load: ${file}`);
      } else if (blocked) broken.push(`failed before its tests ran (a hook threw): ${file} (${blocked} test${blocked === 1 ? '' : 's'} not run)`);
    }
    for (const b of broken) process.stdout.write(`\n${b}`);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
