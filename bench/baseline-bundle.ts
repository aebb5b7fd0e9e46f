import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BundleOptions, DefaultLogger } from '@temporalio/worker';

const here = dirname(fileURLToPath(import.meta.url));

/** How bench/baseline-workflows.ts is bundled: compiled JS after a build, else the TS source. */
export function baselineBundleOptions(): BundleOptions {
  const js = join(here, 'baseline-workflows.js');
  return {
    workflowsPath: existsSync(js) ? js : join(here, 'baseline-workflows.ts'),
    webpackConfigHook: (config) => {
      config.resolve = { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } };
      return config;
    },
    logger: new DefaultLogger('WARN'),
  };
}
