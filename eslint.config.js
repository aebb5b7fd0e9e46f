// ESLint (flat config, typescript-eslint). Run by `npm run lint` and by scripts/test.sh (`make test`).
// The set is kept modest on purpose: it catches real mistakes and enforces the layer rules below;
// style is Prettier's job (.prettierrc.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: it may import @temporalio/workflow and
// @temporalio/common, other workflow files, and pure shared modules (src/core/*, the run-phase
// scheduler src/burst/scheduler.ts) — nothing with I/O (node: builtins, plugins, activities, the
// CLI). Type-only imports are erased at compile time and are allowed from anywhere.
const WORKFLOW_ALLOWED = [
  '@temporalio/workflow',
  '@temporalio/common',
  '\\./([\\w-]+/)*[\\w.-]+\\.js', // another workflow file
  '\\.\\./[\\w.-]+\\.js', // workflows/legacy -> workflows
  '(\\.\\./)+src/core/[\\w.-]+\\.js',
  '(\\.\\./)+src/burst/scheduler\\.js',
];
export const workflowImportRule = {
  patterns: [
    {
      regex: `^(?!(${WORKFLOW_ALLOWED.join('|')})$)`,
      allowTypeImports: true,
      message:
        'workflow code may only import @temporalio/workflow, @temporalio/common, workflow files and pure modules (src/core/*, src/burst/scheduler); use `import type` for anything else',
    },
  ],
};

// What workflow code may import must itself be pure: src/core/* and the scheduler import nothing
// but each other, @temporalio/common and zod.
export const pureImportRule = {
  patterns: [
    {
      regex: '^(?!(\\./[\\w.-]+\\.js|\\.\\./core/[\\w.-]+\\.js|@temporalio/common|zod)$)',
      allowTypeImports: true,
      message: 'src/core/* and src/burst/scheduler.ts are imported by workflows: no I/O, no node: builtins, no other src/ rooms',
    },
  ],
};

// Layers point one way: the planner (src/plan) chooses among plugins through the contract and the
// registry only; plugins never import the planner, nor each other (gke builds on kubernetes);
// sizing (src/sizing: fit, overrides, burst request, catalog lookup) is below both.
const NO_PLAN = {
  regex: '^(\\.\\./)+plan/',
  message: 'plugins sit below the planner: shared sizing lives in src/sizing/',
};
const layerRule = (...patterns) => ['error', { patterns }];
const layers = [
  {
    files: ['src/plugins/*/**/*.ts'],
    ignores: ['src/plugins/gke/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': layerRule(NO_PLAN, {
        regex: '^\\.\\./[\\w-]+/',
        message: 'a plugin does not import another plugin: move what both need to src/sizing/ or src/core/',
      }),
    },
  },
  {
    files: ['src/plugins/gke/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': layerRule(NO_PLAN, {
        regex: '^\\.\\./(?!kubernetes/)[\\w-]+/',
        message: 'gke builds on the kubernetes plugin only: move what else it needs to src/sizing/ or src/core/',
      }),
    },
  },
  {
    files: ['src/plan/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': layerRule({
        regex: '^\\.\\./plugins/(?!(contract|registry)\\.js$)',
        message: 'the planner knows plugins through the contract and the registry only (a plugin-specific format belongs with its plugin)',
      }),
    },
  },
  {
    files: ['src/sizing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': layerRule({
        regex: '^\\.\\./(plan|plugins)/',
        message: 'src/sizing is below the planner and the plugins: it imports neither',
      }),
    },
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.tools/**',
      'coverage/**',
      '**/node_modules/**',
      'test/.artifacts/**',
      'deploy/**',
      '**/.*.ts' /* scratch files */,
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,js,mjs,cjs}'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
    },
    rules: {
      'no-undef': 'off', // tsc checks names in .ts; the few .js/.mjs files are Node scripts
      // `_name` marks a value kept on purpose (a destructured rest, an unused callback argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-explicit-any': 'off', // used sparingly at untyped boundaries (gRPC, YAML)
      'prefer-const': ['error', { destructuring: 'all' }], // `let { a, b }` where only a is reassigned is fine
      'no-regex-spaces': 'off', // tests match indented output literally
      'no-control-regex': 'off', // the input validators match control characters on purpose
      '@typescript-eslint/no-unused-expressions': 'off', // `(a(), b())` one-liners are house style
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', workflowImportRule] },
  },
  ...layers,
  {
    files: ['src/core/**/*.ts', 'src/burst/scheduler.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', pureImportRule] },
  },
);
