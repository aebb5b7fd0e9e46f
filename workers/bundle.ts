// Build step: write dist/workflow-bundle.js (and the tracing variant, dist/workflow-bundle-otel.js)
// so workers start without running webpack.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleOptions } from './worker.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const [file, tracing] of [['workflow-bundle.js', false], ['workflow-bundle-otel.js', true]] as const) {
  const out = join(dir, file);
  const { code } = await bundleWorkflowCode(bundleOptions({ tracing }));
  writeFileSync(out, code);
  process.stdout.write(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)\n`);
}
