import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BurstStatus, Interruption, Job } from '../src/core/types.js';

// Message definitions shared by the workflow, the CLI and the tests (one object, one name).
export const cancelSignal = defineSignal<[{ reason: string }]>('cancel');
export const interruptionSignal = defineSignal<[Interruption]>('interruption');
export const addJobsUpdate = defineUpdate<{ accepted: string[] }, [Job[]]>('addJobs');
export const statusQuery = defineQuery<BurstStatus>('status');
/**
 * The local scheduler (its epilog, or `fluxburst report`) says a job of a burst whose plugin does
 * not run jobs itself has finished on the burst's nodes.
 */
export interface JobDone {
  id: string;
  exitCode: number;
  message?: string;
}
export const jobDoneUpdate = defineUpdate<{ state: 'completed' | 'failed' }, [JobDone]>('jobDone');

export interface WatchStatus {
  scans: number;
  started: string[];
  seen: number;
  unfit: { jobId: string; reason: string }[];
  lastScanAt?: number;
  stopping: boolean;
  /** In the result only: the ids the next run of this watcher must not burst again. */
  seenIds?: string[];
}
export const stopWatchSignal = defineSignal('stop');
export const watchStatusQuery = defineQuery<WatchStatus>('watchStatus');

export interface SlurmNodesStatus {
  phase: 'provision' | 'join' | 'run' | 'teardown' | 'completed' | 'failed';
  nodes: string[];
  released: string[];
  resources: import('../src/core/types.js').ResourceRef[];
  error?: string;
}
/** SuspendProgram / ResumeFailProgram: these nodes may go. */
export const releaseNodesSignal = defineSignal<[{ nodes: string[] }]>('releaseNodes');
export const slurmNodesQuery = defineQuery<SlurmNodesStatus>('slurmNodes');

export interface InterruptionQueueStatus {
  queueUrl: string;
  counts: { received: number; delivered: number; burstGone: number; notOurs: number; ignored: number; kept?: number };
  /** The last deliveries, newest last. */
  recent: Array<{ burstId: string; node: string; kind: string; instanceId: string }>;
  stopping: boolean;
}
export const interruptionQueueStatusQuery = defineQuery<InterruptionQueueStatus>('interruptionQueue');
