/**
 * A real Glance API from Debian's glance-api package, started by the test on 127.0.0.1: sqlite database,
 * file store, the unauthenticated paste pipeline, its own directory; stop() ends it and removes everything.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort, stopServer } from '../../helpers/server.js';
import { tempDir } from '../../helpers/tmp.js';

export interface GlanceServer {
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
  /** GET a JSON document from the API. */
  get<T>(p: string): Promise<T>;
}

export interface GlanceImageDoc {
  id: string;
  name: string;
  status: string;
  size: number;
  os_hash_value: string;
  os_hidden?: boolean;
  [k: string]: unknown;
}

/** GET without keep-alive (an idle pooled socket would keep jest waiting after the tests). */
export function httpGet(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${url}: ${res.statusCode}`))));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Starts Glance; `extra` adds lines to [DEFAULT] (e.g. image_size_cap). */
export async function startGlance(extra: string[] = []): Promise<GlanceServer> {
  const dir = tempDir('e2e-glance');
  const port = await freePort();
  for (const d of ['images', 'lock', 'cache']) fs.mkdirSync(path.join(dir, d));
  const conf = path.join(dir, 'glance-api.conf');
  fs.writeFileSync(
    conf,
    [
      '[DEFAULT]',
      'bind_host = 127.0.0.1',
      `bind_port = ${port}`,
      'workers = 1',
      `log_file = ${dir}/glance-api.log`,
      'enabled_backends = fs:file',
      `image_cache_dir = ${dir}/cache`,
      ...extra,
      '[database]',
      `connection = sqlite:///${dir}/glance.sqlite`,
      '[glance_store]',
      'default_backend = fs',
      '[fs]',
      `filesystem_store_datadir = ${dir}/images`,
      '[paste_deploy]',
      'flavor =',
      'config_file = /etc/glance/glance-api-paste.ini',
      '[oslo_concurrency]',
      `lock_path = ${dir}/lock`,
      '',
    ].join('\n'),
  );
  const sync = spawnSync('glance-manage', ['--config-file', conf, 'db_sync'], { encoding: 'utf8' });
  if (sync.status !== 0) throw new Error(`glance-manage db_sync failed: ${sync.stderr.slice(-2000)}`);
  const child: ChildProcess = spawn('glance-api', ['--config-file', conf], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const get = async <T>(p: string): Promise<T> => JSON.parse((await httpGet(`${url}${p}`)).toString('utf8')) as T;
  const until = Date.now() + 90_000;
  for (;;) {
    try {
      await get('/v2/images');
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > until) {
        throw new Error(`glance-api did not come up on ${url} (exit ${child.exitCode}): ${stderr.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  const stop = async (): Promise<void> => {
    await stopServer(child, 15_000);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { url, dir, stop, get };
}

/** Every image record the API has, any status (hidden ones too). */
export async function allImages(g: GlanceServer): Promise<GlanceImageDoc[]> {
  const out: GlanceImageDoc[] = [];
  for (const q of ['', '&os_hidden=true', '&status=queued', '&status=saving', '&status=killed']) {
    out.push(...(await g.get<{ images: GlanceImageDoc[] }>(`/v2/images?limit=1000${q}`)).images);
  }
  return [...new Map(out.map((i) => [i.id, i])).values()];
}
