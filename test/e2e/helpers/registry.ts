/**
 * A real OCI distribution registry for tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1, on a
 * free port, with htpasswd basic auth (`htpasswd -Bbn`) and its storage in a temporary directory. The test
 * starts it and stops it (afterAll(() => reg.stop())).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { freePort } from './qemu.js';

export { freePort };

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** 127.0.0.1:PORT */
  readonly host: string;
  readonly dir: string;
  readonly user: string;
  readonly password: string;
  /** An auth.json (REGISTRY_AUTH_FILE) for user:password, or for the given ones. */
  authFile(user?: string, password?: string): string;
  /** Stops the registry (its storage stays until the file ends); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startRegistry(opts: { user?: string; password?: string } = {}): Promise<TestRegistry> {
  const dir = tempDir('registry');
  const user = opts.user ?? 'kiln';
  const password = opts.password ?? 'kiln-test-secret';
  const htpasswd = spawnSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' });
  if (htpasswd.status !== 0) throw new Error(`htpasswd: ${htpasswd.stderr}`);
  fs.writeFileSync(path.join(dir, 'htpasswd'), htpasswd.stdout);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log: {level: error}',
      `storage: {filesystem: {rootdirectory: ${path.join(dir, 'data')}}, delete: {enabled: true}}`,
      `http: {addr: "${host}"}`,
      `auth: {htpasswd: {realm: kiln-test, path: ${path.join(dir, 'htpasswd')}}}`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const start = async () => {
    const c = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'registry.log'), 'a')] });
    child = c;
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      if (c.exitCode !== null) throw new Error(`docker-registry exited ${c.exitCode}: ${fs.readFileSync(path.join(dir, 'registry.log'), 'utf8')}`);
      try {
        const r = await fetch(`http://${host}/v2/`);
        if (r.status === 401 || r.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`docker-registry did not answer on ${host} within 15 s`);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (c.exitCode === null) c.kill('SIGKILL');
  };
  await start();
  return {
    host,
    dir,
    user,
    password,
    start,
    stop,
    authFile(u = user, p = password) {
      const file = path.join(dir, `auth-${u}-${Buffer.from(p).toString('hex').slice(0, 16)}.json`);
      fs.writeFileSync(file, `${JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${u}:${p}`).toString('base64') } } })}\n`);
      return file;
    },
  };
}

/** `skopeo ARGS…` with the registry's credentials and plain HTTP; returns stdout (throws with stderr). */
export function skopeo(reg: TestRegistry, args: readonly string[]): string {
  const r = spawnSync('skopeo', [...args], { encoding: 'utf8', env: { ...process.env, REGISTRY_AUTH_FILE: reg.authFile() } });
  if (r.status !== 0) throw new Error(`skopeo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
