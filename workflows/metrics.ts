// Burst metrics (and a log line per phase), emitted through the SDK's workflow metric meter: it drops values while a history
// is replayed, so a worker restart or a cache eviction never counts a burst twice, and it emits no
// commands, so adding or moving a call here cannot break replay of running bursts.
import { log, metricMeter } from '@temporalio/workflow';
import type { BurstInput, BurstStatus, Phase } from '../src/core/types.js';

const TERMINAL: ReadonlySet<Phase> = new Set(['completed', 'failed', 'cancelled']);

/**
 * Everything is derived from the status the workflow already keeps, so burst.ts needs one call
 * where the phase changes and one where an interruption is taken in.
 */
export function burstMetrics(input: BurstInput) {
  // Before plan the plugin is not chosen yet; the first target is what the burst will try first.
  const firstChoice = input.targets[0]?.plugin ?? 'none';
  const pluginOf = (st: BurstStatus) => st.plugin || firstChoice;
  const m = metricMeter;

  return {
    /** Call after `st.timeline` got the new phase. */
    phase(st: BurstStatus): void {
      const tl = st.timeline;
      const now = tl[tl.length - 1];
      if (!now) return;
      const plugin = pluginOf(st);
      // The workflow logger is replay-safe too: one line per phase change, with the burst's id.
      log.info(`burst phase ${now.phase}`, { phase: now.phase, plugin });
      if (tl.length === 1) m.createCounter('fluxburst_bursts_started_total', 'bursts', 'bursts started').add(1, { plugin });
      const prev = tl[tl.length - 2];
      if (prev && !TERMINAL.has(prev.phase)) {
        m.createHistogram('fluxburst_burst_phase_seconds', 'float', 's', 'time spent in each burst phase').record(Math.max(0, (now.at - prev.at) / 1000), { plugin, phase: prev.phase });
      }
      if (!TERMINAL.has(now.phase)) return;

      const none = st.counts ? st.counts.total === 0 : st.jobs.length === 0;
      const outcome = now.phase === 'completed' && none ? 'nothing-to-do' : now.phase;
      m.createCounter('fluxburst_bursts_finished_total', 'bursts', 'bursts finished, by outcome').add(1, { plugin, outcome });
      // A rollback is a teardown forced by a failure: what the saga undid, named by the failed step.
      if (now.phase === 'failed' && tl.some((p) => p.phase === 'teardown')) {
        m.createCounter('fluxburst_rollbacks_total', 'bursts', 'failed bursts whose resources were torn down').add(1, { plugin, step: st.error?.step ?? 'unknown' });
      }
      // A float histogram, not a counter (SDK counters are integers): _sum is the running spend.
      if (st.spend !== undefined) {
        m.createHistogram('fluxburst_estimated_spend_usd', 'float', 'USD', 'estimated spend per burst').record(Math.max(0, st.spend), { plugin });
      }
      const jobs = m.createCounter('fluxburst_jobs_finished_total', 'jobs', 'jobs at burst end, by state');
      if (st.counts) {
        // Batched bursts: the counts cover every job (the status lists only a page of them).
        for (const state of ['completed', 'failed', 'cancelled'] as const) if (st.counts[state]) jobs.add(st.counts[state], { plugin, state });
      } else for (const j of st.jobs) jobs.add(1, { plugin, state: j.state });
    },

    interruption(st: BurstStatus, kind: string): void {
      m.createCounter('fluxburst_interruptions_total', 'interruptions', 'interruption notices and lost nodes').add(1, { plugin: pluginOf(st), kind });
    },
  };
}
