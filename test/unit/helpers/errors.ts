import { KilnError } from '../../../lib/errors/index.js';

/** The KilnError `f` throws; the test fails when it throws nothing or something else. */
export function thrown(f: () => unknown): KilnError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    return e as KilnError;
  }
  throw new Error('expected an error');
}
