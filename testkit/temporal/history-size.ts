// What a workflow (all its runs, continue-as-new included) put in Temporal's history: events and
// bytes per run. The bounded-history tests and the jobs benchmark judge the burst by this.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto;

export interface RunSize {
  runId: string;
  events: number;
  bytes: number;
}

/** Every run of the workflow from `firstRunId` on, following continue-as-new, with its events and encoded size. */
export async function historySizes(client: Client, workflowId: string, firstRunId: string): Promise<RunSize[]> {
  const runs: RunSize[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const h: proto.temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const bytes = temporal.api.history.v1.History.encode(h).finish().length;
    runs.push({ runId, events: h.events?.length ?? 0, bytes });
    const last: proto.temporal.api.history.v1.IHistoryEvent | undefined = h.events?.[h.events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

export function totals(runs: RunSize[]): { events: number; bytes: number; maxRunEvents: number; runs: number } {
  return {
    events: runs.reduce((a, r) => a + r.events, 0),
    bytes: runs.reduce((a, r) => a + r.bytes, 0),
    maxRunEvents: Math.max(0, ...runs.map((r) => r.events)),
    runs: runs.length,
  };
}
