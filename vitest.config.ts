import { defineConfig } from 'vitest/config';

const perProject = {
  // The Temporal worker's native core wants a process of its own, not a worker thread.
  pool: 'forks' as const,
  testTimeout: 120_000,
  hookTimeout: 120_000,
};
// maxForks/minForks are root-only options: a project's copy of them was ignored (and is a type error).
const shared = { ...perProject, poolOptions: { forks: { maxForks: 2, minForks: 1 } } };

// The whole-burst tests that run on both servers in one run (not copies): project `dev` against
// `temporal server start-dev` (test/support/global-setup.ts), project `cluster` against a real
// four-service Temporal cluster on PostgreSQL (testkit/temporal-cluster/global-setup.ts). Both
// provide the same inject keys, so the files are the same. `--project dev` runs one side only.
export const ON_BOTH_SERVERS = [
  'test/integration/burst.test.ts',
  'test/integration/worker-kill.test.ts',
  'test/integration/schedule.test.ts',
  'test/integration/watch.test.ts',
  'test/integration/ec2-burst.test.ts',
  'test/integration/scale-out.test.ts',
  'test/integration/several-workers.test.ts',
];

export default defineConfig({
  test: {
    ...shared,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { test: { ...perProject, name: 'dev', include: ['test/**/*.test.ts'], globalSetup: ['test/support/global-setup.ts'], setupFiles: ['test/support/per-file-tmp.ts'] } },
      // The same per-file TMPDIR and workdir cleanup as dev: the run's leftover check sees both projects' files.
      { test: { ...perProject, name: 'cluster', include: ON_BOTH_SERVERS, globalSetup: ['testkit/temporal-cluster/global-setup.ts'], setupFiles: ['test/support/per-file-tmp.ts'] } },
    ],
  },
});
