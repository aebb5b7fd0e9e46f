import type { BurstStatus } from '../core/types.js';

/** Plain fixed-width table; no colour so it reads the same in logs. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}

const firstLine = (s: string) => (s.split('\n').find((l) => l.trim()) ?? '').slice(0, 60);

export function jobsTable(s: BurstStatus): string {
  const rows = s.jobs.map((j) => {
    const out = j.result?.tasks.map((t) => firstLine(t.stdout)).filter(Boolean);
    return [
      j.id,
      j.name,
      j.state,
      j.result ? String(j.result.exitCode) : '-',
      String(j.attempts),
      j.assigned.join(',') || '-',
      j.error ? firstLine(j.error) : [...new Set(out ?? [])].join(' | '),
    ];
  });
  const t = table(['JOB', 'NAME', 'STATE', 'EXIT', 'RUNS', 'NODES', 'OUTPUT'], rows);
  const c = s.counts;
  // Bursts that batch their jobs show a page of them; the counts and the first failures cover all.
  if (!c || c.total <= s.jobs.length) return t;
  const fails = (s.failures ?? []).slice(0, 10).map((f) => `  failed ${f.id}: ${firstLine(f.error ?? `exit ${f.exitCode}`)}\n`).join('');
  return `${t}jobs: ${c.total} total, ${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled, ${c.pending} pending, ${c.running} running (the ${s.jobs.length} above are the latest)\n${fails}`;
}

export function timelineTable(s: BurstStatus, now: number): string {
  const rows = s.timeline.map((m, i) => {
    const end = s.timeline[i + 1]?.at ?? now;
    return [m.phase, new Date(m.at).toISOString(), `${((end - m.at) / 1000).toFixed(1)}s`];
  });
  return table(['PHASE', 'STARTED', 'TOOK'], rows);
}
