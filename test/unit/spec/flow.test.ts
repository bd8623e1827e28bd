/** all / any / os_case / argument_case / argument_set, ported from Sahara's test_images.py (call counts included). */
import { runChild } from '../../../lib/spec/context.js';
import { ValidationFailure } from '../../../lib/spec/failure.js';
import type { OsCaseValidator, ArgumentCaseValidator } from '../../../lib/spec/types.js';
import { FakeTarget, allOf, context, group, probe, probeDispatch } from './fakes.js';

const POS = { file: 'test.yaml', line: 1, col: 1 };

async function runWith(v: Parameters<typeof runChild>[0], testOnly: boolean, args?: Record<string, string>, distro?: string) {
  const { log, dispatch } = probeDispatch();
  const ctx = context(new FakeTarget(), { testOnly, dispatch, ...(args ? { args } : {}), ...(distro ? { distro } : {}) });
  let error: unknown;
  try {
    await runChild(v, ctx);
  } catch (e) {
    error = e;
  }
  return { log, ctx, error };
}

describe('any', () => {
  test('one success short-circuits validation', async () => {
    const truth = probe('truth');
    const { log, error } = await runWith(group('any', [truth, truth]), false);
    expect(error).toBeUndefined();
    expect(log.count('truth')).toBe(1);
    expect(log.calls[0]?.testOnly).toBe(true);
  });

  test('all failures fail; in reconcile mode each child runs test-only first, then reconciling (4 calls)', async () => {
    const lies = probe('lies');
    const { log, error } = await runWith(group('any', [lies, lies]), false);
    expect(error).toBeInstanceOf(ValidationFailure);
    expect(log.count('lies')).toBe(4);
    expect(log.calls.map((c) => c.testOnly)).toEqual([true, true, false, false]);
    expect((error as ValidationFailure).causes).toHaveLength(2);
  });

  test('in test-only mode it fails after the first pass (2 calls)', async () => {
    const lies = probe('lies');
    const { log, error } = await runWith(group('any', [lies, lies]), true);
    expect(error).toBeInstanceOf(ValidationFailure);
    expect(log.count('lies')).toBe(2);
    expect(log.calls.every((c) => c.testOnly)).toBe(true);
  });

  test('one failure does not end iteration', async () => {
    const { log, error } = await runWith(group('any', [probe('lies'), probe('truth')]), false);
    expect(error).toBeUndefined();
    expect(log.count('lies')).toBe(1);
    expect(log.count('truth')).toBe(1);
  });

  test('the passes run in order: every child test-only, then every child reconciling', async () => {
    const { log, ctx, error } = await runWith(group('any', [probe('lie1'), probe('lie2')]), false);
    expect(error).toBeInstanceOf(ValidationFailure);
    expect(log.calls.map((c) => `${c.name}:${c.testOnly}`)).toEqual(['lie1:true', 'lie2:true', 'lie1:false', 'lie2:false']);
    expect(ctx.testOnly).toBe(false);
  });
});

describe('all', () => {
  test('all pass: every child runs once, in the caller mode', async () => {
    const truth = probe('truth');
    const { log, error } = await runWith(group('all', [truth, truth]), false);
    expect(error).toBeUndefined();
    expect(log.count('truth')).toBe(2);
    expect(log.calls.every((c) => !c.testOnly)).toBe(true);
  });

  test('second fails: both ran once, and it fails', async () => {
    const { log, error } = await runWith(group('all', [probe('truth'), probe('lies')]), true);
    expect(error).toBeInstanceOf(ValidationFailure);
    expect(log.count('truth')).toBe(1);
    expect(log.count('lies')).toBe(1);
    expect(log.calls.every((c) => c.testOnly)).toBe(true);
  });

  test('first fails: the rest never run', async () => {
    const { log, error } = await runWith(group('all', [probe('lies'), probe('truth')]), true);
    expect(error).toBeInstanceOf(ValidationFailure);
    expect(log.count('lies')).toBe(1);
    expect(log.count('truth')).toBe(0);
  });
});

function osCase(...names: string[]): OsCaseValidator {
  return { kind: 'os_case', pos: POS, path: 'os_case', cases: names.map((distro) => ({ distro, pos: POS, body: allOf([probe(distro)]) })) };
}

describe('os_case', () => {
  test.each([
    ['centos', ['centos', 'redhat'], ['centos']],
    ['fedora', ['centos', 'redhat'], ['redhat']],
    ['ubuntu', ['centos', 'redhat'], []],
    ['ubuntu', ['redhat', 'debian'], ['debian']],
    ['debian', ['ubuntu', 'debian'], ['debian']],
    ['rocky', ['debian', 'redhat', 'rocky'], ['redhat']],
  ])('distro %s with cases %j runs %j (first match wins, families match, no match passes)', async (distro, cases, ran) => {
    const { log, error } = await runWith(osCase(...cases), false, { distro }, distro);
    expect(error).toBeUndefined();
    expect(log.calls.map((c) => c.name)).toEqual(ran);
  });

  test('ID_LIKE gives the family of a derivative the table does not know', async () => {
    const { log, dispatch } = probeDispatch();
    const ctx = { ...context(new FakeTarget(), { testOnly: true, dispatch, args: { distro: 'pop' } }), detected: { id: 'pop', like: ['ubuntu', 'debian'], family: 'debian' as const } };
    await runChild(osCase('redhat', 'debian'), ctx);
    expect(log.calls.map((c) => c.name)).toEqual(['debian']);
  });
});

function argCase(argument: string, values: string[]): ArgumentCaseValidator {
  return { kind: 'argument_case', pos: POS, path: 'argument_case', argument, cases: new Map(values.map((v) => [v, allOf([probe(v)])])) };
}

describe('argument_case', () => {
  test('the matching case runs', async () => {
    const { log, error } = await runWith(argCase('argument', ['value', 'another_value']), false, { argument: 'value' });
    expect(error).toBeUndefined();
    expect(log.calls).toEqual([{ name: 'value', testOnly: false }]);
  });

  test('no match does nothing', async () => {
    const { log, error } = await runWith(argCase('argument', ['some_value', 'another_value']), false, { argument: 'value' });
    expect(error).toBeUndefined();
    expect(log.calls).toEqual([]);
  });

  test('an undefined argument fails', async () => {
    const { error } = await runWith(argCase('missing', ['x']), true, { argument: 'value' });
    expect((error as ValidationFailure).message).toBe('argument "missing" is not defined');
  });
});

describe('argument_set', () => {
  test('an old value is overwritten', async () => {
    const v = { kind: 'argument_set' as const, pos: POS, path: 'argument_set', argument: 'argument', value: 'new_value' };
    const { ctx } = await runWith(v, false, { argument: 'value' });
    expect(ctx.args.get('argument')).toBe('new_value');
  });

  test('a new variable is set, in test-only mode too', async () => {
    const v = { kind: 'argument_set' as const, pos: POS, path: 'argument_set', argument: 'another_argument', value: 'value' };
    const { ctx } = await runWith(v, true, { argument: 'value' });
    expect(Object.fromEntries(ctx.args)).toEqual({ argument: 'value', another_argument: 'value' });
  });
});
