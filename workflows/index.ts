// The worker's workflows bundle entry: every workflow type fluxburst registers.
export { burstWorkflow } from './burst.js';
export { watchWorkflow } from './watch.js';
export { slurmNodesWorkflow } from './slurm-nodes.js';
export { sweepWorkflow } from './sweep.js';
export { interruptionQueueWorkflow } from './interruptions.js';
export * from './messages.js';
