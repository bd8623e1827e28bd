/** Step statuses with the cache registry: which steps hit where, where the build resumes, what the log says. */
import path from 'node:path';
import { resumeIndex, statusLine, stepStatuses } from '../../../lib/build/cache-step.js';
import type { StepInputs } from '../../../lib/cache/inputs.js';
import { StepCache } from '../../../lib/cache/store.js';
import { tempDir } from '../../helpers/tmp.js';

const cache = new StepCache(path.join(tempDir('unit-cache-step'), 'steps'));
const step = (name: 'root' | 'install' | 'finalise', key: string, o: Partial<StepInputs> = {}): StepInputs => ({ step: name, key, inputs: {}, empty: false, ...o });
const steps = [step('root', 'a'.repeat(32), { empty: true }), step('install', 'b'.repeat(32)), step('finalise', 'c'.repeat(32))];

test.each([
  ['nothing anywhere', [], ['root:empty', 'install:miss', 'finalise:miss'], -1],
  ['install in the registry', ['b'], ['root:empty', 'install:hit:registry', 'finalise:miss'], 1],
  ['both in the registry', ['b', 'c'], ['root:empty', 'install:hit:registry', 'finalise:hit:registry'], 2],
  ['only the last in the registry', ['c'], ['root:empty', 'install:covered', 'finalise:hit:registry'], 2],
])('%s', (_name, held, want, resume) => {
  const remote = new Set(held.map((c) => c.repeat(32)));
  const got = stepStatuses(cache, steps, '/tmp/out/img', remote);
  expect(got.map((s) => `${s.step}:${s.state}${s.from ? `:${s.from}` : ''}`)).toEqual(want);
  expect(resumeIndex(got)).toBe(resume);
});

test('the log line of a registry hit says so', () => {
  const [, install] = stepStatuses(cache, steps, '/tmp/out/img', new Set(['b'.repeat(32)]));
  expect(statusLine(install as never)).toBe(`cache install (extra-data.d to install.d and packages): hit (registry) ${'b'.repeat(12)}`);
});
