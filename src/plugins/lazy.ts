import type { Plugin } from './contract.js';

/** The methods a lazy plugin forwards to its implementation once it is loaded. */
export type LazyMethod = 'preflight' | 'plan' | 'provision' | 'join' | 'releaseNode' | 'run' | 'interruptions' | 'teardown' | 'owned' | 'destroy';

/**
 * A plugin whose name, params and sizing load at once and whose provider code (an SDK that takes
 * hundreds of ms to import) loads on the first call, so CLI commands that never call it start
 * fast. `methods` lists what the implementation has: the burst checks at plan time whether a
 * plugin runs jobs or reports interruptions, so the wrapper must not pretend to more.
 */
export function lazyPlugin<P>(
  eager: Pick<Plugin<P>, 'name' | 'description' | 'params' | 'estimate' | 'shape'>,
  load: () => Promise<Plugin<P>>,
  methods: readonly LazyMethod[],
): Plugin<P> {
  let impl: Promise<Plugin<P>> | undefined;
  const get = () => (impl ??= load());
  const out: Record<string, unknown> = { ...eager };
  for (const m of methods) {
    out[m] = async (...args: unknown[]) => {
      const p = await get();
      const fn = p[m] as ((...a: unknown[]) => Promise<unknown>) | undefined;
      if (!fn) throw new Error(`plugin ${eager.name} declares ${m} but its implementation has none`);
      return fn.apply(p, args);
    };
  }
  return out as unknown as Plugin<P>;
}
