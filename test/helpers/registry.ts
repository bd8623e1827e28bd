/**
 * A real OCI registry for tests: Debian's docker-registry (the CNCF distribution registry), started on a free
 * port of 127.0.0.1 with its storage in a directory of its own, no authentication; stop() ends it and removes
 * everything. Plain HTTP: clients are told so (skopeo --dest-tls-verify=false).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort, stopServer } from './server.js';
import { tempDir } from './tmp.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface Registry {
  /** host:port, for docker://HOST:PORT/REPO:TAG references. */
  readonly host: string;
  stop(): Promise<void>;
}

function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

export async function startRegistry(): Promise<Registry> {
  const dir = tempDir('registry');
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${dir}/storage`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', config], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const host = `127.0.0.1:${port}`;
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await status(`http://${host}/v2/`)) === 200) break;
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null || Date.now() > until) throw new Error(`docker-registry did not come up on ${host} (exit ${child.exitCode}): ${stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async (): Promise<void> => {
    await stopServer(child, 10_000);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { host, stop };
}
