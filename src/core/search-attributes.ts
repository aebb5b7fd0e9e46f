import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes so the Temporal UI and `fluxburst list` can filter bursts. They must
// be registered on the namespace (`fluxburst server` does it for the dev server).
export const SA_PLUGIN = defineSearchAttributeKey('FluxburstPlugin', SearchAttributeType.KEYWORD);
export const SA_PHASE = defineSearchAttributeKey('FluxburstPhase', SearchAttributeType.KEYWORD);
export const SA_OWNER = defineSearchAttributeKey('FluxburstOwner', SearchAttributeType.KEYWORD);
/** Scheduler node names a burst holds (Slurm power-save: SuspendProgram finds the burst by node). */
export const SA_NODES = defineSearchAttributeKey('FluxburstNodes', SearchAttributeType.KEYWORD_LIST);

export const SEARCH_ATTRIBUTES = [SA_PLUGIN, SA_PHASE, SA_OWNER, SA_NODES];
