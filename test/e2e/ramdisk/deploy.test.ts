/**
 * The deploy round trip: the deploy ramdisk, booted with a blank disk and an image URL served from
 * 127.0.0.1, writes the image and powers off; the disk then holds the image bit for bit (the image itself
 * is booted by image/vm.test.ts). A wrong checksum leaves no bootable disk. disk-image-get-kernel extracts
 * the very kernel and initrd the build installed, and the root filesystem's UUID that fstab names.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DEPLOY, IMAGES, SEED, sharedImage, testFlavours, testHome } from '../helpers/images.js';
import { expectNoLeaks, hostState, kiln } from '../helpers/kiln.js';
import { bootImage } from '../../../lib/boot/index.js';

const MiB = 2 ** 20;
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 2 ** 28 });
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const DIR = path.join(IMAGES, 'deploy-test');

let seed: string;
let deploy: string;
let server: http.Server;
let base: string;

/** Serves DIR over HTTP on 127.0.0.1 (the guest reaches it as 10.0.2.2 through QEMU's user network). */
function serve(): Promise<http.Server> {
  const s = http.createServer((req, res) => {
    const file = path.join(DIR, path.basename(decodeURIComponent(req.url ?? '/')));
    if (!fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Length': fs.statSync(file).size, 'Content-Type': 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

/** Boots the deploy ramdisk against `disk` and returns its KILN-DEPLOY line. */
async function runDeploy(disk: string, file: string, sum: string, log: string): Promise<string> {
  const lines: string[] = [];
  const report = await bootImage({
    kernel: `${deploy}.kernel`,
    initrd: `${deploy}.initramfs`,
    append: `kiln.deploy_url=${base}/${file} kiln.deploy_sha256=${sum}`,
    disks: [disk],
    persist: true,
    memoryMb: 1536,
    expect: /^KILN-DEPLOY: (OK|FAILED)/,
    timeoutS: 600,
    consoleLog: log,
    onConsoleLine: (line) => lines.push(line),
  });
  const result = lines.find((l) => l.startsWith('KILN-DEPLOY:'));
  if (!result) throw new Error(`no KILN-DEPLOY line (${report.message}); console log ${log}`);
  process.stdout.write(`${result} (boot report: ${JSON.stringify(report.milestones)})\n`);
  return result;
}

beforeAll(async () => {
  fs.rmSync(DIR, { recursive: true, force: true });
  fs.mkdirSync(DIR, { recursive: true });
  seed = await sharedImage(SEED);
  deploy = await sharedImage(DEPLOY);
  fs.linkSync(`${seed}.qcow2`, path.join(DIR, 'seed.qcow2'));
  server = await serve();
  base = `http://10.0.2.2:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

test('ramdisk-image-create wrote a kernel and a gzip newc initramfs with busybox, qemu-img, its libraries, modules and /init', () => {
  const log = fs.readFileSync(`${deploy}.build.log`, 'utf8');
  expect(log).toMatch(/building .*deploy\.kernel, .*deploy\.initramfs from deploy .*ramdisk-base/);
  expect(sh('file', ['-b', `${deploy}.kernel`]).stdout).toMatch(/Linux kernel x86 boot executable/);
  const list = sh('sh', ['-c', `gzip -dc '${deploy}.initramfs' | cpio -it --quiet`]);
  expect(list.status).toBe(0);
  const files = list.stdout.split('\n');
  for (const f of ['init', 'usr/bin/busybox', 'usr/bin/qemu-img', 'etc/kiln/udhcpc.script', 'dev/console']) expect(files).toContain(f);
  expect(files.some((f) => /usr\/lib\/x86_64-linux-gnu\/libglib-2\.0\.so\.0/.test(f))).toBe(true);
  expect(files.some((f) => /lib\/modules\/[^/]+\/modules\.dep$/.test(f))).toBe(true);
  expect(files.some((f) => /virtio_blk\.ko$/.test(f))).toBe(true);
  const init = sh('sh', ['-c', `gzip -dc '${deploy}.initramfs' | cpio -i --quiet --to-stdout init`]).stdout;
  expect(init).toMatch(/# ---- init fragment of flavour deploy ----/);
});

test('the deploy ramdisk writes the image to a blank disk, which then holds exactly the image', async () => {
  const blank = path.join(DIR, 'target.qcow2');
  const info = JSON.parse(sh('qemu-img', ['info', '--output=json', `${seed}.qcow2`]).stdout) as { 'virtual-size': number };
  expect(sh('qemu-img', ['create', '-q', '-f', 'qcow2', blank, String(info['virtual-size'])]).status).toBe(0);
  const line = await runDeploy(blank, 'seed.qcow2', sha256(`${seed}.qcow2`), path.join(DIR, 'deploy.console.log'));
  expect(line).toMatch(/^KILN-DEPLOY: OK wrote http:\/\/10\.0\.2\.2:\d+\/seed\.qcow2 .* to \/dev\/vda/);
  // The disk now holds exactly the image's contents: booting it would boot the image, which vm.test does.
  expect(sh('qemu-img', ['compare', '-q', `${seed}.qcow2`, blank]).status).toBe(0);
});

describe('a wrong checksum leaves no bootable image', () => {
  const payload = path.join(DIR, 'small.raw');
  const target = path.join(DIR, 'old-disk.raw');
  beforeAll(() => {
    // An 8 MiB "image" with a boot signature (an empty partition table: random entries would be a damaged
    // table, which get-kernel refuses as such), and a target disk full of an old pattern.
    const data = crypto.randomBytes(8 * MiB);
    data.fill(0, 446, 510);
    data[510] = 0x55;
    data[511] = 0xaa;
    fs.writeFileSync(payload, data);
    sh('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', payload, path.join(DIR, 'small.qcow2')]);
  });
  const fillTarget = () => fs.writeFileSync(target, Buffer.alloc(64 * MiB, 0xab));
  const wrong = '0'.repeat(64);

  test('raw, streamed: the disk is written, then its first and last MiB are zeroed', async () => {
    fillTarget();
    const line = await runDeploy(target, 'small.raw', wrong, path.join(DIR, 'wrong-raw.console.log'));
    expect(line).toMatch(/^KILN-DEPLOY: FAILED checksum mismatch .*expected 0{64}, got [0-9a-f]{64}; \/dev\/vda wiped/);
    const disk = fs.readFileSync(target);
    expect(disk.subarray(0, MiB).every((b) => b === 0)).toBe(true);
    expect(disk.subarray(disk.length - MiB).every((b) => b === 0)).toBe(true);
    // What lies between was streamed from the image (so the wipe, not luck, removed the boot sector).
    expect(disk.subarray(MiB, 8 * MiB).equals(fs.readFileSync(payload).subarray(MiB))).toBe(true);
  });

  test('qcow2, staged in memory: the disk is never touched', async () => {
    fillTarget();
    const line = await runDeploy(target, 'small.qcow2', wrong, path.join(DIR, 'wrong-qcow2.console.log'));
    expect(line).toMatch(/^KILN-DEPLOY: FAILED checksum mismatch .*\/dev\/vda not written/);
    expect(fs.readFileSync(target).every((b) => b === 0xab)).toBe(true);
  });
});

describe('disk-image-get-kernel', () => {
  test('extracts the kernel and initrd the build installed, read-only, and the root UUID fstab names', async () => {
    const out = path.join(DIR, 'kernel');
    fs.mkdirSync(out, { recursive: true });
    const before = hostState();
    const hashBefore = sha256(`${seed}.qcow2`);
    const r = await kiln(['-d', out, '--json', `${seed}.qcow2`], { bin: 'disk-image-get-kernel' });
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as { kernel: string; initrd: string; uuid: string; version: string };
    expect(got.kernel).toBe(path.join(out, 'seed-vmlinuz'));
    expect(got.initrd).toBe(path.join(out, 'seed-initrd'));
    expect(sh('file', ['-b', got.kernel]).stdout).toMatch(/Linux kernel/);
    expect(sha256(`${seed}.qcow2`)).toBe(hashBefore);
    expectNoLeaks(before, out);
    // The raw output of the same build yields the same files, without conversion.
    const rr = await kiln(['-d', out, '-o', 'fromraw', `${seed}.raw`], { bin: 'disk-image-get-kernel' });
    expect(rr.code).toBe(0);
    expect(sha256(path.join(out, 'fromraw-vmlinuz'))).toBe(sha256(got.kernel));
    expect(sha256(path.join(out, 'fromraw-initrd'))).toBe(sha256(got.initrd));
    // The same files the build put in /boot (its tar output is the same tree), and the UUID of the root fs.
    const fromTree = (member: string) => {
      const r = spawnSync('tar', ['-xOf', `${seed}.tar`, member], { maxBuffer: 2 ** 28 });
      expect([member, r.status]).toEqual([member, 0]);
      return crypto.createHash('sha256').update(r.stdout).digest('hex');
    };
    expect(sha256(got.kernel)).toBe(fromTree(`./boot/vmlinuz-${got.version}`));
    expect(sha256(got.initrd)).toBe(fromTree(`./boot/initrd.img-${got.version}`));
    expect(sh('tar', ['-xOf', `${seed}.tar`, './etc/fstab']).stdout).toMatch(new RegExp(`^UUID=${got.uuid}\\s+/\\s`, 'm'));
  });

  test('an image without a kernel is refused with exit 2', async () => {
    const r = await kiln([path.join(DIR, 'small.qcow2')], { bin: 'disk-image-get-kernel' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no kernel/);
  });
});

/** Builds the deploy ramdisk again under `dir` with the given settings; returns the output prefix and the log. */
async function rebuild(dir: string, env: Record<string, string>): Promise<{ prefix: string; log: string }> {
  const prefix = path.join(DIR, dir, 'deploy');
  fs.mkdirSync(path.dirname(prefix), { recursive: true });
  const r = await kiln(['-o', prefix, ...DEPLOY.args], { bin: DEPLOY.bin, env: { HOME: testHome().home, ELEMENTS_PATH: testFlavours(), ...env } });
  expect([r.code, r.stderr.slice(-2000)]).toEqual([0, expect.any(String)]);
  for (const ext of ['kernel', 'initramfs']) expect([ext, sha256(`${prefix}.${ext}`)]).toEqual([ext, sha256(`${deploy}.${ext}`)]);
  fs.rmSync(path.dirname(prefix), { recursive: true, force: true });
  return { prefix, log: `${r.stdout}${r.stderr}` };
}

test('built again elsewhere (its steps restored from the cache; another directory, time zone and locale): the same kernel and initramfs, byte for byte', async () => {
  const { log } = await rebuild('again', { KILN_NO_CACHE: '0', TZ: 'America/Sao_Paulo', LANG: 'fr_FR.UTF-8', LC_ALL: 'fr_FR.UTF-8' });
  expect(log).toMatch(/restore \w+ from the step cache/);
});

test('built again from nothing (--no-cache; another directory, time zone and locale, later): the same kernel and initramfs, byte for byte', async () => {
  const { log } = await rebuild('nocache', { KILN_NO_CACHE: '1', TZ: 'Pacific/Auckland', LANG: 'ja_JP.UTF-8', LC_ALL: 'ja_JP.UTF-8' });
  expect(log).not.toMatch(/from the step cache/);
});
