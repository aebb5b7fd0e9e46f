// The interruption queue deletes a message whose burst is gone, and keeps one whose signal failed
// for any other reason (SQS shows it again; the next receive retries it).
import { expect, it } from 'vitest';
import { signalFailure } from '../../workflows/interruptions.js';

it('tells a gone burst from any other signal failure', () => {
  expect(signalFailure(new Error('Unable to signal external workflow because it was not found'))).toBe('gone');
  expect(signalFailure(new Error('workflow execution already completed'))).toBe('gone');
  expect(signalFailure(new Error('signal count limit exceeded for workflow'))).toBe('other');
  expect(signalFailure(new Error('deadline exceeded'))).toBe('other');
});
