/**
 * `kiln publish --to docker://…` against a real registry (Debian's docker-registry on 127.0.0.1, htpasswd basic
 * auth; test/e2e/helpers/registry.ts): the EFI fixture's qcow2 pushed as a KubeVirt containerDisk, pulled back
 * by skopeo (one layer, disk/efi.qcow2 owned 107:107, the same bytes), and the pulled-back disk boots under OVMF
 * to a login prompt (the suite's one boot of the EFI image). A wrong password is refused (exit 2) and tags
 * nothing; a destination that is not docker:// and Glance-only flags with one are refused before anything.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EFI, sharedImage } from '../helpers/images.js';
import { kiln } from '../helpers/kiln.js';
import { skopeo, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('e2e-publish-registry');
let reg: TestRegistry;
let efi: string;
let published: Awaited<ReturnType<typeof kiln>>;
const ref = () => `docker://${reg.host}/kiln/efi:e2e`;
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const tags = () => {
  try {
    return (JSON.parse(skopeo(reg, ['list-tags', '--tls-verify=false', `docker://${reg.host}/kiln/efi`])) as { Tags: string[] }).Tags;
  } catch {
    return []; // the repository does not exist yet
  }
};

beforeAll(async () => {
  reg = await startRegistry();
  efi = await sharedImage(EFI);
  published = await kiln(['publish', '--json', '--to', ref(), `${efi}.qcow2`], { env: { REGISTRY_AUTH_FILE: reg.authFile() } });
});
afterAll(async () => {
  await reg?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('bad input is refused before anything is pushed (exit 2): a wrong password, a destination that is not docker://, a Glance-only flag', async () => {
  const wrong = await kiln(['publish', '--to', `docker://${reg.host}/kiln/efi:wrong`, `${efi}.qcow2`], { env: { REGISTRY_AUTH_FILE: reg.authFile(reg.user, 'not-the-password') } });
  expect(wrong.code).toBe(2);
  expect(wrong.stderr.trim().split('\n').filter((l) => l.startsWith('kiln: error:'))).toHaveLength(1);
  const other = await kiln(['publish', '--to', 'oci:/tmp/x', `${efi}.qcow2`]);
  expect(other.code).toBe(2);
  expect(other.stderr).toMatch(/--to oci:\/tmp\/x: expected docker:\/\/HOST\[:PORT\]\/REPO:TAG/);
  const glanceOnly = await kiln(['publish', '--to', ref(), '--visibility', 'public', `${efi}.qcow2`]);
  expect(glanceOnly.code).toBe(2);
  expect(glanceOnly.stderr).toMatch(/--visibility only applies to Glance/);
  expect(tags()).toEqual(['e2e']);
});

test('pushed as a containerDisk: skopeo pulls back one layer holding disk/efi.qcow2, 107:107, byte for byte, with the build manifest\'s labels', () => {
  if (published.code !== 0) throw new Error(`kiln publish failed (${published.code}):\n${published.stderr}`);
  const r = JSON.parse(published.stdout) as { destination: string; digest: string; disk: string };
  expect(r.destination).toBe(ref());
  expect(r.disk).toBe('disk/efi.qcow2');
  expect(published.stderr).toMatch(/kiln: published .* as a containerDisk \(disk\/efi\.qcow2, sha256:[0-9a-f]{64}/);
  const info = JSON.parse(skopeo(reg, ['inspect', '--tls-verify=false', ref()])) as { Digest: string; Layers: string[]; Architecture: string; Labels: Record<string, string> };
  expect(info.Digest).toBe(r.digest);
  expect(info.Layers).toHaveLength(1);
  expect(info.Architecture).toBe('amd64');
  expect(info.Labels['org.opencontainers.image.title']).toBe('efi');
  expect(info.Labels['kiln.layout']).toBe('efi');

  const back = path.join(work, 'pulled');
  skopeo(reg, ['copy', '--quiet', '--src-tls-verify=false', ref(), `dir:${back}`]);
  const manifest = JSON.parse(fs.readFileSync(path.join(back, 'manifest.json'), 'utf8')) as { layers: { digest: string; mediaType: string }[] };
  expect(manifest.layers).toHaveLength(1);
  const layer = path.join(back, (manifest.layers[0]?.digest ?? '').slice('sha256:'.length));
  const listing = spawnText('tar', ['--numeric-owner', '-tvzf', layer]).trim().split('\n').map((l) => l.split(/\s+/));
  expect(listing.map((f) => [f[1], f[5]])).toEqual([
    ['107/107', 'disk/'],
    ['107/107', 'disk/efi.qcow2'],
  ]);
  const out = path.join(work, 'extracted');
  fs.mkdirSync(out);
  spawnText('tar', ['-xzf', layer, '-C', out]);
  fs.rmSync(back, { recursive: true, force: true });
  expect(sha256(path.join(out, 'disk', 'efi.qcow2'))).toBe(sha256(`${efi}.qcow2`));
});

test('the disk pulled back from the registry boots under OVMF to a login prompt', async () => {
  const disk = path.join(work, 'extracted', 'disk', 'efi.qcow2');
  expect(fs.existsSync(disk)).toBe(true);
  const { bootImage } = await import('../../../lib/boot/index.js');
  const report = await bootImage({ image: disk, efi: true, timeoutS: 300, consoleLog: path.join(work, 'boot.log') });
  expect(report.message).toMatch(/login prompt/);
  expect(report.ok).toBe(true);
});

function spawnText(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 2 ** 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
