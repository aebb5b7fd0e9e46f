// The import rules in eslint.config.js are the guard that keeps workflow code deterministic and the
// layers pointing one way; these cases prove each rule fires on what it forbids and not on what it
// allows (an ESLint rule that never fires looks exactly like one that passes).
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath });
  return r!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

describe('workflow code imports only deterministic modules', () => {
  it.each([
    ["import { readFileSync } from 'node:fs';", 'a node builtin'],
    ["import { registry } from '../src/plugins/registry.js';", 'a plugin module'],
    ["import { activities } from '../activities/index.js';", 'activity code'],
    ["import { Client } from '@temporalio/client';", 'the Temporal client'],
    ["import { plan } from '../src/plan/choose.js';", 'the planner'],
    ["import { x } from '../../src/plugins/local/plugin.js';", 'a plugin from workflows/legacy'],
  ])('refuses %s (%s)', async (code) => {
    expect(await restricted('workflows/probe.ts', `${code}\nexport {};\n`)).toHaveLength(1);
  });

  it.each([
    "import { proxyActivities } from '@temporalio/workflow';",
    "import { ApplicationFailure } from '@temporalio/common';",
    "import { NON_RETRYABLE_CODES } from '../src/core/errors.js';",
    "import { Scheduler } from '../src/burst/scheduler.js';",
    "import { Saga } from './saga.js';",
    "import type { Activities } from '../activities/index.js';",
    "import type { OwnedResource } from '../src/plugins/contract.js';",
  ])('allows %s', async (code) => {
    expect(await restricted('workflows/probe.ts', `${code}\nexport {};\n`)).toEqual([]);
  });

  it('src/core stays pure (workflows import it)', async () => {
    expect(await restricted('src/core/probe.ts', "import { spawn } from 'node:child_process';\nexport {};\n")).toHaveLength(1);
    expect(await restricted('src/core/probe.ts', "import { x } from '../plugins/registry.js';\nexport {};\n")).toHaveLength(1);
    expect(
      await restricted('src/core/probe.ts', "import { z } from 'zod';\nimport { InputError } from './errors.js';\nexport {};\n"),
    ).toEqual([]);
  });
});

describe('layers point one way: plan -> plugins (contract, registry) -> sizing', () => {
  it.each([
    ['src/plugins/aws-ec2/sizing.ts', "import { cheapestFit } from '../../plan/fit.js';", 'a plugin importing the planner'],
    ['src/plugins/local/plugin.ts', "import type { Choice } from '../../plan/choose.js';", 'even for a type'],
    ['src/plugins/gke/sizing.ts', "import { burstRequest } from '../aws-ec2/sizing.js';", 'a plugin importing another plugin'],
    ['src/plugins/kubernetes/plugin.ts', "import { x } from '../local/agent.js';", 'a plugin importing another plugin'],
    [
      'src/plan/execution-plan.ts',
      "import { ALLOCATION_STRATEGIES } from '../plugins/aws-ec2/params.js';",
      'the planner importing one plugin',
    ],
    ['src/sizing/fit.ts', "import { packJobs } from '../plan/pack.js';", 'sizing importing the planner'],
    ['src/sizing/fit.ts', "import type { Plugin } from '../plugins/contract.js';", 'sizing importing plugins'],
  ])('%s: refuses %s (%s)', async (file, code) => {
    expect(await restricted(file, `${code}\nexport {};\n`)).toHaveLength(1);
  });

  it.each([
    ['src/plugins/gke/plugin.ts', "import { kubernetesPlugin } from '../kubernetes/index.js';"],
    ['src/plugins/aws-ec2/sizing.ts', "import { cheapestFit } from '../../sizing/fit.js';"],
    ['src/plan/choose.ts', "import type { PluginRegistry } from '../plugins/registry.js';"],
    ['src/plan/targets.ts', "import type { Plugin } from '../plugins/contract.js';"],
  ])('%s: allows %s', async (file, code) => {
    expect(await restricted(file, `${code}\nexport {};\n`)).toEqual([]);
  });

  it('the code as it is keeps to the layers', async () => {
    const results = await eslint.lintFiles(['src/plan', 'src/plugins', 'src/sizing', 'src/core', 'workflows']);
    const hits = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => `${r.filePath}:${m.line}: ${m.message}`),
    );
    expect(hits).toEqual([]);
    expect(results.length).toBeGreaterThan(40);
  });
});
