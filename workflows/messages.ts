import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BurstStatus, Interruption, Job } from '../src/core/types.js';

// Message definitions shared by the workflow, the CLI and the tests (one object, one name).
export const cancelSignal = defineSignal<[{ reason: string }]>('cancel');
export const interruptionSignal = defineSignal<[Interruption]>('interruption');
export const addJobsUpdate = defineUpdate<{ accepted: string[] }, [Job[]]>('addJobs');
export const statusQuery = defineQuery<BurstStatus>('status');
