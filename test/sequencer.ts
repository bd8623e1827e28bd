/**
 * The order test files run in: by path, the same on every machine and every run (jest's default orders
 * by the durations it cached in /tmp, so the file that pays for a shared fixture would change from run
 * to run). KILN_TEST_SEED=N shuffles the files instead, reproducibly for that N, to find tests that depend
 * on what an earlier file left behind.
 */
import SequencerModule from '@jest/test-sequencer';

// The package is CommonJS: under ESM its default import is the module object, whose `default` is the class.
const Base = SequencerModule.default;
type Test = Parameters<InstanceType<typeof Base>['sort']>[0][number];

/** mulberry32: a small seeded generator, enough to shuffle a list reproducibly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Paths sorted bytewise, then shuffled (Fisher–Yates) when a seed is given. */
export function orderPaths(paths: readonly string[], seed?: number): string[] {
  const sorted = [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (seed === undefined) return sorted;
  const next = random(seed);
  for (let i = sorted.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [sorted[i], sorted[j]] = [sorted[j] as string, sorted[i] as string];
  }
  return sorted;
}

export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.KILN_TEST_SEED;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new Error(`KILN_TEST_SEED=${raw}: expected a whole number`);
  return Number(raw);
}

export default class KilnSequencer extends Base {
  override sort(tests: Array<Test>): Array<Test> {
    const seed = seedFromEnv();
    const order = orderPaths(tests.map((t) => t.path), seed);
    if (seed !== undefined) process.stderr.write(`test files shuffled with KILN_TEST_SEED=${seed}\n`);
    const byPath = new Map(tests.map((t) => [t.path, t]));
    return order.map((p) => byPath.get(p) as Test);
  }
}
