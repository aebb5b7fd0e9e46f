// Build step: write dist/workflow-bundle.js so workers start without running webpack.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleOptions } from './worker.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'workflow-bundle.js');
const { code } = await bundleWorkflowCode(bundleOptions());
writeFileSync(out, code);
process.stdout.write(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)\n`);
