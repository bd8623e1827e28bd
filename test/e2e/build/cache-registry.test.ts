/**
 * The step cache shared through a real registry (docker-registry on 127.0.0.1, htpasswd auth), on the busybox
 * tree: builder A pushes every step it stores and its outputs; builder B with an empty cache gets registry hits for
 * every step, pulls the last one and makes the same tar; a new builder asking for A's outputs gets them from the
 * registry without any tree; a pull-only builder pushes nothing; `kiln cache ls --registry`;
 * a wrong password is bad input (exit 2) with nothing written or pushed; the registry stopped mid-build: the
 * build succeeds and says it could not push.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFlavour } from '../../unit/helpers/fixtures.js';
import { buildEvents, cacheSources, cacheStores, kiln, type Run } from '../helpers/kiln.js';
import { REGISTRY_BIN, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { tempDir } from '../../helpers/tmp.js';
import { command, describeIf, file } from '../../helpers/requires.js';

const work = tempDir('e2e-cache-registry');
const F = path.join(work, 'flavours');
const hook = (line: string) => `#!/bin/sh\nset -eu\n${line}\n`;
writeFlavour(path.join(F, 'regtest'), {
  hooks: {
    'root.d': { '20-mark': hook('echo root > "$TARGET_ROOT/etc/root-mark"') },
    'install.d': { '50-foo': hook('echo "foo=${KILN_T_FOO:-none}" > /etc/foo') },
    'finalise.d': { '90-bar': hook('echo bar > /etc/bar') },
  },
});
const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const pushes = (r: Run) => buildEvents(r).filter((e) => e.event === 'cache-push');

describeIf(file(REGISTRY_BIN, 'docker-registry (Debian package docker-registry)'), command('htpasswd', 'apache2-utils'))('step cache through a registry', () => {
  let reg: TestRegistry;
  let repo: string;
  beforeAll(async () => {
    reg = await startRegistry();
    repo = `${reg.host}/kiln/steps`;
  });
  afterAll(() => reg.stop());
  const build = (cache: string, out: string, extra: string[] = [], env: Record<string, string> = {}) =>
    kiln(['build', '--json', '-t', 'tar', '--image-cache', cache, '-o', out, '--cache-registry', repo, ...extra, 'busybox', 'regtest'], {
      env: { ELEMENTS_PATH: F, KILN_NO_CACHE: '0', REGISTRY_AUTH_FILE: reg.authFile(), ...env },
    });
  const tags = () => (JSON.parse(spawnSync(process.execPath, ['bin/kiln', 'cache', 'ls', '--json', '--registry', repo], { encoding: 'utf8', env: { ...process.env, REGISTRY_AUTH_FILE: reg.authFile() } }).stdout) as { entries: { tag: string; kind: string; meta: { step?: string } }[] }).entries;
  const ok = (r: Run) => {
    if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr.slice(-3000)}`);
    return r;
  };

  test('A pushes every step it stores; B, with an empty cache, hits every step in the registry and makes the same tar', async () => {
    const a = ok(await build(path.join(work, 'cache-a'), path.join(work, 'a')));
    expect(cacheSources(a)).toEqual(['root:miss', 'install:miss', 'finalise:miss']);
    // Its steps, and its outputs (the output cache's entry for a rebuild with nothing changed).
    expect(pushes(a).map((e) => [e.kind, e.failed])).toEqual([['step', undefined], ['step', undefined], ['step', undefined], ['output', undefined]]);
    expect(tags().filter((e) => e.kind === 'step').map((e) => e.meta.step).sort()).toEqual(['finalise', 'install', 'root']);
    const ls = spawnSync(process.execPath, ['bin/kiln', 'cache', 'ls', '--registry', repo], { encoding: 'utf8', env: { ...process.env, REGISTRY_AUTH_FILE: reg.authFile() } }).stdout;
    expect(ls).toMatch(new RegExp(`4 entries, .* MiB in ${repo.replace(/\./g, '\\.')}`));

    const cacheB = path.join(work, 'cache-b');
    const b = ok(await build(cacheB, path.join(work, 'b')));
    expect(cacheSources(b)).toEqual(['root:hit:registry', 'install:hit:registry', 'finalise:hit:registry']);
    expect(b.stderr).toMatch(/cache finalise \(.*\): hit \(registry\)/);
    const pulled = buildEvents(b).filter((e) => e.event === 'cache-pull');
    expect(pulled.map((e) => e.kind)).toEqual(['step']);
    expect(pulled[0]?.bytes).toBeGreaterThan(0);
    expect(cacheStores(b)).toEqual([]);
    // Only its own outputs (another name than A's: another output entry).
    expect(pushes(b).map((e) => e.kind)).toEqual(['output']);
    expect(sha(path.join(work, 'b.tar'))).toBe(sha(path.join(work, 'a.tar')));
    // The pulled entry (only the one the build resumed from) is a local entry now.
    const again = ok(await build(cacheB, path.join(work, 'b')));
    expect(cacheSources(again)).toEqual(['root:hit:registry', 'install:hit:registry', 'finalise:hit:local']);
    expect(buildEvents(again).filter((e) => e.event === 'cache-pull')).toEqual([]);
    expect(pushes(again)).toEqual([]);
  }, 300_000);

  test('a new builder asking for what A built (same name, nothing changed): the outputs come from the registry, no step tree is pulled, the same bytes', async () => {
    fs.mkdirSync(path.join(work, 'f'));
    const f = ok(await build(path.join(work, 'cache-f'), path.join(work, 'f', 'a')));
    expect(cacheSources(f)).toEqual(['root:hit:registry', 'install:hit:registry', 'finalise:hit:registry']);
    expect(buildEvents(f).filter((e) => e.event === 'cache-pull').map((e) => e.kind)).toEqual(['output']);
    expect(f.stderr).toMatch(/reused from the output cache/);
    expect(pushes(f)).toEqual([]);
    expect(sha(path.join(work, 'f', 'a.tar'))).toBe(sha(path.join(work, 'a.tar')));
  }, 300_000);

  test('--cache-registry-mode pull: registry hits are used, what the build stores is not pushed', async () => {
    const r = ok(await build(path.join(work, 'cache-c'), path.join(work, 'c'), ['--cache-registry-mode', 'pull'], { KILN_T_FOO: 'changed' }));
    expect(cacheSources(r)).toEqual(['root:hit:registry', 'install:miss', 'finalise:miss']);
    expect(cacheStores(r)).toEqual(['install', 'finalise']);
    expect(pushes(r)).toEqual([]);
    expect(tags()).toHaveLength(5);
  }, 300_000);

  test('a wrong password: exit 2, one line naming the registry and the auth file, nothing written or pushed', async () => {
    const cache = path.join(work, 'cache-d');
    const r = await build(cache, path.join(work, 'd'), [], { REGISTRY_AUTH_FILE: reg.authFile(reg.user, 'wrong'), KILN_T_FOO: 'other' });
    expect(r.code).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('kiln: error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`registry ${reg.host} refused the credentials for ${reg.host} from`);
    expect(fs.existsSync(path.join(work, 'd.tar'))).toBe(false);
    expect(fs.existsSync(path.join(cache, 'kiln', 'steps'))).toBe(false);
    expect(tags()).toHaveLength(5);
  }, 120_000);

  test('the registry stopped mid-build: the build succeeds and says it could not push', async () => {
    let stopping: Promise<void> | undefined;
    const r = await kiln(['build', '--json', '-t', 'tar', '--image-cache', path.join(work, 'cache-e'), '-o', path.join(work, 'e'), '--cache-registry', repo, 'busybox', 'regtest'], {
      env: { ELEMENTS_PATH: F, KILN_NO_CACHE: '0', REGISTRY_AUTH_FILE: reg.authFile(), KILN_T_FOO: 'stopped' },
      // Once the build has looked its steps up and pulled root, the registry goes away.
      onStdout: (text) => {
        if (!stopping && text.includes('"phase":"install.d"')) stopping = reg.stop();
      },
    });
    await stopping;
    ok(r);
    expect(cacheSources(r)).toEqual(['root:hit:registry', 'install:miss', 'finalise:miss']);
    expect(r.stderr).toMatch(/cache registry .* could not push/);
    expect(fs.existsSync(path.join(work, 'e.tar'))).toBe(true);
    await reg.start();
  }, 300_000);
});
