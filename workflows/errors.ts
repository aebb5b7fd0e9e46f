// How a failure reads in a burst's status: the cause's words, not the activity wrapper's.
import { ActivityFailure } from '@temporalio/workflow';

export function messageOf(e: unknown): string {
  if (e instanceof ActivityFailure && e.cause) return messageOf(e.cause);
  if (e instanceof Error) return e.message;
  return String(e);
}
