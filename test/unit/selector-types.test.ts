// Selector and condition types have one source, the zod schema in src/core/selector.ts: what the
// config parser returns is what BurstInput carries and the selectors take, with no cast between.
// The type assertions are checked by `tsc -p tsconfig.test.json` (make test); the rest at run time.
import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { selectorSchema as configSelectorSchema } from '../../src/config/schema.js';
import { type Condition, conditionSchema, type SelectorSpec, selectorSchema } from '../../src/core/selector.js';
import type { BurstInput, Condition as CoreCondition, SelectorSpec as CoreSelectorSpec } from '../../src/core/types.js';
import { selectJobs } from '../../src/select/selectors.js';
import type { Job } from '../../src/core/types.js';

describe('selector types come from the schema', () => {
  it('core/types.ts re-exports the schema-derived types; BurstInput carries them', () => {
    expectTypeOf<CoreSelectorSpec>().toEqualTypeOf<z.output<typeof selectorSchema>>();
    expectTypeOf<CoreCondition>().toEqualTypeOf<z.output<typeof conditionSchema>>();
    expectTypeOf<BurstInput['selector']>().toEqualTypeOf<SelectorSpec>();
    expectTypeOf<Extract<SelectorSpec, { kind: 'match' }>['all']>().toEqualTypeOf<Condition[] | undefined>();
    // The config file's `select:` is the same schema object, not a copy.
    expect(configSelectorSchema).toBe(selectorSchema);
  });

  it('no hand-written copy of the types or casts to them remain', () => {
    const types = readFileSync('src/core/types.ts', 'utf8');
    expect(types).not.toMatch(/interface Condition\b|type SelectorSpec\s*=/);
    for (const f of ['src/plan/prepare.ts', 'src/cli/commands/config.ts', 'src/select/selectors.ts'])
      expect(readFileSync(f, 'utf8'), f).not.toMatch(/as (SelectorSpec|Condition)\b/);
  });

  it('a parsed selector goes to the selectors as it is', async () => {
    const spec = selectorSchema.parse({ kind: 'match', all: [{ path: 'attributes.system.queue', in: ['gpu'] }] });
    const job = (id: string, queue: string): Job =>
      ({ id, name: id, nodes: 1, tasks: 1, command: ['true'], attributes: { system: { queue } } }) as Job;
    const s = await selectJobs([job('a', 'gpu'), job('b', 'cpu')], spec);
    expect(s.selected.map((j) => j.id)).toEqual(['a']);
    expect(selectorSchema.parse(undefined)).toEqual({ kind: 'burstable' });
  });
});
