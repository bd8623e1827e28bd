/**
 * Boot fixtures for end-to-end tests that need no built image: Debian's kernel (fetched once with
 * apt-get download into a cache) and a tiny busybox initramfs with a scripted /init.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.js';

export const CACHE = process.env.KILN_TEST_CACHE ?? '/var/cache/kiln-test';

function sh(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Debian's current kernel for this architecture, as a file (cached). */
export function debianKernel(): string {
  fs.mkdirSync(CACHE, { recursive: true });
  const cached = fs.readdirSync(CACHE).find((f) => /^vmlinuz-/.test(f));
  if (cached) return path.join(CACHE, cached);
  const debs = path.join(CACHE, 'debs');
  fs.mkdirSync(debs, { recursive: true });
  sh('apt-get', ['download', 'linux-image-amd64'], debs);
  const meta = fs.readdirSync(debs).find((f) => f.startsWith('linux-image-amd64_'));
  if (!meta) throw new Error('apt-get download linux-image-amd64 produced no package');
  const dep = /linux-image-[0-9][^\s,(]*/.exec(sh('dpkg-deb', ['-f', path.join(debs, meta), 'Depends']))?.[0];
  if (!dep) throw new Error('linux-image-amd64 names no kernel package');
  sh('apt-get', ['download', dep], debs);
  const deb = fs.readdirSync(debs).find((f) => f.startsWith(`${dep}_`));
  if (!deb) throw new Error(`apt-get download ${dep} produced no package`);
  const tmp = fs.mkdtempSync(path.join(CACHE, 'x-'));
  try {
    sh('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards "./boot/vmlinuz-*"', 'sh', path.join(debs, deb), tmp]);
    const name = fs.readdirSync(path.join(tmp, 'boot')).find((f) => f.startsWith('vmlinuz-'));
    if (!name) throw new Error(`${deb} holds no /boot/vmlinuz-*`);
    fs.renameSync(path.join(tmp, 'boot', name), path.join(CACHE, name));
    return path.join(CACHE, name);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(debs, { recursive: true, force: true });
  }
}

/**
 * /init of the test ramdisk. `kiln.test=MODE` on the kernel command line picks what it does:
 * ready (default) prints "kiln-test: ready" and idles; panic makes init exit (the kernel panics);
 * silent prints nothing more and idles.
 */
export const TEST_INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mode=$(sed -n 's/.*kiln\\.test=\\([a-z]*\\).*/\\1/p' /proc/cmdline)
echo "kiln-test: init started (mode \${mode:-ready})"
case "$mode" in
  panic) echo "kiln-test: init exits"; exit 1 ;;
  silent) exec sleep 3600 ;;
esac
echo "kiln-test: ready"
exec sleep 3600
`;

/**
 * An /init for bench/tcg-smp --flips: one CPU flips a static key (sched_schedstats) `flips` times, so the kernel
 * patches its text (text_poke_bp) while the other CPU runs through the patched scheduler paths; then
 * "kiln-test: ready". Cross-modifying code on purpose: what stalls multi-threaded TCG (README, "Booting under TCG").
 */
export function flipsInit(flips: number): string {
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
echo "kiln-test: init started, $(nproc) CPUs, ${flips} static-key flips"
taskset 1 sh -c 'while :; do /bin/true; done' &
i=0
while [ $i -lt ${flips} ]; do
  echo 1 > /proc/sys/kernel/sched_schedstats; echo 0 > /proc/sys/kernel/sched_schedstats
  i=$((i + 1)); [ $((i % 100)) = 0 ] && echo "kiln-test: $i flips"
done
echo "kiln-test: ready"
exec sleep 3600
`;
}

/** A gzip-compressed newc cpio with a static busybox and `init`; written into dir. */
export function busyboxInitramfs(dir: string, init = TEST_INIT): string {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
  if (!busybox) throw new Error('busybox is missing (apt-get install busybox-static)');
  const tree = tempDir('initramfs');
  try {
    for (const d of ['bin', 'sbin', 'proc', 'sys', 'dev', 'tmp']) fs.mkdirSync(path.join(tree, d));
    fs.copyFileSync(busybox, path.join(tree, 'bin', 'busybox'));
    fs.chmodSync(path.join(tree, 'bin', 'busybox'), 0o755);
    fs.writeFileSync(path.join(tree, 'init'), init, { mode: 0o755 });
    const out = path.join(dir, 'initramfs.gz');
    sh('sh', ['-c', 'find . | cpio -o -H newc --quiet | gzip -1 > "$1"', 'sh', out], tree);
    return out;
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }
}

/** Processes whose command line mentions `marker` (e.g. the test's own temporary directory). */
export function processesMentioning(marker: string): string[] {
  const r = spawnSync('pgrep', ['-af', '--', marker], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.includes('pgrep'));
}
