#!/usr/bin/env node
// Replays boot.test's API test as it stood when a 2-vCPU TCG guest stalled in it (stops 14 and 15, before
// 8a4472e): bootImage, then withBootedImage, in one process, Debian's kernel with the e2e busybox initramfs,
// N pairs. Counts the boots that do not reach "kiln-test: ready"; a failed boot's console log is kept.
// Usage: node bench/tcg-smp-api.mjs [--pairs N] [--cpus N] [--tcg-thread single|multi] [--timeout S]
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const pairs = Number(opt('--pairs', '10')), cpus = Number(opt('--cpus', '2')), tcgThread = opt('--tcg-thread'), timeoutS = Number(opt('--timeout', '60'));
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(repo);
const { bootImage, withBootedImage } = await import(path.join(repo, 'dist/lib/boot/index.js'));
const fixtures = await import(path.join(repo, 'dist/test/e2e/boot/fixtures.js'));
const work = fs.mkdtempSync('/tmp/kiln-bench-api-');
const out = path.join('bench/results', `tcg-smp-api-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}Z`);
fs.mkdirSync(out, { recursive: true });
const summary = (line) => { console.log(line); fs.appendFileSync(path.join(out, 'summary.txt'), `${line}\n`); };
try {
  const kernel = fixtures.debianKernel(), initrd = fixtures.busyboxInitramfs(work);
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  summary(`${pairs} pairs (bootImage + withBootedImage), ${cpus} vCPUs, TCG thread ${tcgThread ?? "kiln's default"}, timeout ${timeoutS} s; load average at start ${load}`);
  summary(`commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}`);
  const base = { kernel, initrd, expect: /kiln-test: ready/, accel: 'tcg', cpus, ...(tcgThread ? { tcgThread } : {}), timeoutS };
  const results = [];
  for (let i = 1; i <= pairs; i++) {
    for (const which of ['bootImage', 'withBootedImage']) {
      const consoleLog = path.join(out, `${i}-${which}.log`);
      const t0 = Date.now();
      let ok = false, msg = '';
      try {
        if (which === 'bootImage') {
          const r = await bootImage({ ...base, consoleLog });
          ({ ok, message: msg } = r);
        } else {
          const seen = await withBootedImage({ ...base, ssh: false, consoleLog }, (vm) => vm.waitForConsole(/mode ready/, 5));
          ok = seen === 'kiln-test: init started (mode ready)';
        }
      } catch (e) {
        msg = String(e?.message ?? e);
      }
      const s = (Date.now() - t0) / 1000;
      results.push({ ok, s });
      summary(`${i} ${which} ${ok ? 'ok' : 'FAILED'} ${s.toFixed(1)} s${ok ? '' : ` ${msg}`}`);
      if (ok) fs.rmSync(consoleLog, { force: true });
    }
  }
  const t = results.filter((r) => r.ok).map((r) => r.s).sort((a, b) => a - b);
  summary(`boots ${results.length}, failed ${results.filter((r) => !r.ok).length}, median ${t.length ? t[Math.floor((t.length - 1) / 2)].toFixed(1) : '-'} s`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
