import { expect } from 'vitest';
import { InputError } from '../../src/core/errors.js';

/** The error of class `cls` that `fn` throws (fails the test if it throws none, or something else). */
export function thrown<E extends Error>(cls: abstract new (...a: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    return e as E;
  }
  throw new Error(`expected a ${cls.name}`);
}

/** The InputError `fn` throws. */
export const inputError = (fn: () => unknown): InputError => thrown(InputError, fn);
