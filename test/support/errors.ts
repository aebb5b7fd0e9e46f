import { expect } from 'vitest';
import { InputError } from '../../src/core/errors.js';

/** The InputError `fn` throws (fails the test if it throws none, or something else). */
export function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}
