/**
 * `kiln install`: the OS's own installer in a VM, driven by an automation file kiln renders from libosinfo's
 * knowledge and the user's choices; watched until it powers off (stages from its log, a stall from its
 * counters); then the installed disk booted, customised over SSH (packages, an image spec) and powered
 * off; then the outputs, checksums and manifest as `kiln build` writes them. A failure leaves a failure
 * bundle (serial console, installer log, automation file, I/O history, report) and nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { withBootedImage } from '../boot/index.js';
import { failed, invalid } from '../errors/index.js';
import { run } from '../exec/index.js';
import type { Logger } from '../log/index.js';
import { writeOutputs } from '../output/index.js';
import { formatKind, type Format } from '../output/formats.js';
import { packRamdisk } from '../ramdisk/assemble.js';
import { resolveMirrors } from '../rootfs/mirror.js';
import { withScope, type Scope } from '../scope/index.js';
import { lockOutput } from '../build/lock.js';
import { selfContainedDisk } from '../inspect/image-file.js';
import { loadSpec } from '../spec/load.js';
import { formatIssue } from '../spec/types.js';
import { runSpec, summarize } from '../spec/index.js';
import { SshTarget } from '../spec/targets/ssh.js';
import { checkAutomation, renderAutomation, type Automation, type AutomationChoices } from './automation.js';
import { findOs, installable, loadCatalogue, type OsEntry } from './osinfo.js';
import { activityTable, type Progress } from './progress.js';
import { freeUdpPort, type InstallOutcome } from './vm.js';
import { qemuBackend } from './backend.js';
import { scopedTempDir } from '../scope/temp.js';
import { installCommand, toolFor, updateCommand, type CommandSpec } from '../distro/packages.js';
import { quoteShell } from '../spec/shell.js';

export interface InstallSettings {
  readonly os: string;
  readonly output: string;
  readonly types: readonly Format[];
  readonly sizeGb: number | undefined;
  readonly memoryMb: number | undefined;
  readonly cpus: number;
  readonly packages: readonly string[];
  readonly spec: string | undefined;
  /** The private key kiln logs in with; its .pub goes into the automation file. */
  readonly sshKey: string;
  readonly kernel: string | undefined;
  readonly initrd: string | undefined;
  /** A disk an installer already wrote: skip to the second stage. */
  readonly installed: string | undefined;
  readonly mirror: string | undefined;
  readonly hostname: string;
  readonly locale: string;
  readonly keyboard: string;
  readonly timezone: string;
  readonly inactivityS: number;
  readonly timeoutS: number;
  readonly imageCache: string;
  readonly checksum: boolean;
}

export interface InstallPlan {
  readonly os: OsEntry;
  readonly automation: Automation;
  readonly installer: { readonly kernel: string; readonly initrd: string; readonly from: string } | undefined;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly diskGb: number;
  readonly append: string;
  readonly logPort: number;
  readonly outputs: readonly { format: Format; path: string }[];
}

/** The installer kernel and initrd for Debian: the host's netboot package when it is the same release, else the mirror's. */
function debianInstaller(e: OsEntry, mirror: string): { kernel: string; initrd: string; from: string } {
  const local = `/usr/lib/debian-installer/images/${e.version}/amd64/text/debian-installer/amd64`;
  if (fs.existsSync(`${local}/linux`) && fs.existsSync(`${local}/initrd.gz`)) return { kernel: `${local}/linux`, initrd: `${local}/initrd.gz`, from: `debian-installer-${e.version}-netboot-amd64 (${local})` };
  const base = `${mirror.replace(/\/$/, '')}/dists/${e.codename}/main/installer-amd64/current/images/netboot/debian-installer/amd64`;
  return { kernel: `${base}/linux`, initrd: `${base}/initrd.gz`, from: `the mirror's installer tree (${base})` };
}

/** Decides everything a run needs without touching anything. */
export function planInstall(s: InstallSettings, env: Readonly<Record<string, string | undefined>>, logPort: number): InstallPlan {
  const catalogue = loadCatalogue();
  const found = findOs(catalogue, s.os);
  if ('error' in found) throw invalid(found.error, 'kiln install --list shows what kiln can install');
  const e = found;
  if (!e.automation || !installable(e)) throw invalid(`--os ${s.os}: kiln cannot drive ${e.name}'s installer (no preseed, kickstart or autoinstall, or no x86_64 installer)`, 'kiln install --list shows what kiln can install');
  for (const t of s.types) if (formatKind(t) !== 'disk') throw invalid(`-t ${t}: kiln install writes disk images (qcow2, raw, vhd, vmdk)`);
  const pub = `${s.sshKey}.pub`;
  if (!fs.existsSync(pub)) throw invalid(`--ssh-key ${s.sshKey}: its public key ${pub} does not exist`);
  if ((s.kernel === undefined) !== (s.initrd === undefined)) throw invalid('--kernel and --initrd go together');
  for (const f of [s.kernel, s.initrd, s.installed, s.spec]) if (f !== undefined && !fs.existsSync(f)) throw invalid(`"${f}" does not exist`);
  if (s.installed !== undefined) selfContainedDisk(s.installed, '--installed');
  const codename = e.codename ?? e.version;
  let mirror: { url: string; security?: string };
  if (e.automation === 'preseed' && e.distro === 'debian') {
    const m = resolveMirrors(s.mirror, env as Readonly<Record<string, string>>);
    mirror = { url: m.mirror, ...(m.security ? { security: m.security } : {}) };
  } else {
    const tree = e.trees.find((t) => t.arch === 'x86_64');
    if (s.mirror === undefined && !tree) throw invalid(`--os ${s.os}: name the install tree with --mirror URL`);
    mirror = { url: s.mirror ?? (tree as { url: string }).url };
  }
  const choices: AutomationChoices = {
    kind: e.automation,
    release: codename,
    hostname: s.hostname,
    locale: s.locale,
    keyboard: s.keyboard,
    timezone: s.timezone,
    sshKeys: fs.readFileSync(pub, 'utf8').split('\n').filter((l) => l.trim() !== ''),
    packages: s.packages,
    mirror,
    disk: '/dev/vda',
    log: { host: '10.0.2.2', port: logPort },
  };
  const automation = renderAutomation(choices);
  const problems = checkAutomation(automation);
  if (problems.length > 0) throw failed(`the rendered ${automation.filename} is not well formed: ${problems.join('; ')}`);
  let installer: InstallPlan['installer'];
  if (s.kernel !== undefined && s.initrd !== undefined) installer = { kernel: s.kernel, initrd: s.initrd, from: '--kernel and --initrd' };
  else if (e.distro === 'debian') installer = debianInstaller(e, mirror.url);
  else {
    const t = e.trees.find((x) => x.arch === 'x86_64');
    const base = (s.mirror ?? t?.url ?? '').replace(/\/$/, '');
    installer = t ? { kernel: `${base}/${t.kernel}`, initrd: `${base}/${t.initrd}`, from: `the install tree (${base})` } : undefined;
  }
  const memoryMb = s.memoryMb ?? Math.max(1024, e.resources.recRamMb ?? 1024);
  const diskGb = s.sizeGb ?? e.resources.minDiskGb ?? 10;
  const ext: Record<string, string> = { qcow2: 'qcow2', raw: 'raw', vhd: 'vhd', vmdk: 'vmdk' };
  return {
    os: e,
    automation,
    installer: s.installed ? undefined : installer,
    memoryMb,
    cpus: s.cpus,
    diskGb,
    append: [...automation.cmdline, 'console=ttyS0,115200n8'].join(' '),
    logPort,
    outputs: s.types.map((t) => ({ format: t, path: `${s.output}.${ext[t] ?? t}` })),
  };
}

/** The plan as --dry-run prints it: the automation file, then the VM. */
export function renderInstallPlan(p: InstallPlan, s: InstallSettings): string {
  const e = p.os;
  const lines = [
    `# ${p.automation.filename} for ${e.name} (${e.shortIds[0]}${e.derivedFrom ? `, derived from libosinfo's ${e.derivedFrom}: this osinfo-db has no entry for it` : ''}), injected ${p.automation.injection === 'initrd' ? "appended to the installer's initrd" : 'on a CIDATA disk'}`,
    p.automation.text.trimEnd(),
    ...Object.entries(p.automation.extraFiles).flatMap(([n, t]) => [`# ${n}`, t.trimEnd()]),
    '',
    '# VM plan',
    s.installed ? `second stage only, from ${s.installed}` : `installer: ${p.installer?.kernel} + ${p.installer?.initrd} (${p.installer?.from})`,
    `kernel command line: ${p.append}`,
    `memory: ${p.memoryMb} MiB (libosinfo: minimum ${e.resources.minRamMb ?? '?'} MiB, recommended ${e.resources.recRamMb ?? '?'} MiB); CPUs: ${p.cpus}`,
    `disk: ${p.diskGb} GiB qcow2, blank (libosinfo: minimum ${e.resources.minDiskGb ?? '?'} GiB, recommended ${e.resources.recDiskGb ?? '?'} GiB)`,
    `network: QEMU user mode; the installer's syslog to 10.0.2.2:${p.logPort} (kiln listens on 127.0.0.1:${p.logPort})`,
    `watch: stages from the installer's log; stall when disk, network, console and log are all idle for ${s.inactivityS} s; give up after ${s.timeoutS} s`,
    `second stage: boot the installed disk, SSH as root with ${s.sshKey}${s.packages.length > 0 ? `, install ${s.packages.join(' ')}` : ''}${s.spec ? `, apply ${s.spec}` : ''}, power off`,
    `outputs: ${p.outputs.map((o) => o.path).join(', ')}${s.checksum ? ' (with .md5 and .sha256)' : ''}, ${s.output}.manifest.json`,
  ];
  return lines.join('\n');
}

/** Fetches a URL into the image cache once (for installer kernels and initrds from a mirror). */
async function fetchCached(url: string, cacheDir: string, log: Logger): Promise<string> {
  if (!/^https?:\/\//.test(url)) return url;
  const dir = path.join(cacheDir, 'kiln', 'installers', url.replace(/^https?:\/\//, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 180));
  const file = path.join(dir, path.basename(url));
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(dir, { recursive: true });
  const part = `${file}.kiln-part-${process.pid}`;
  try {
    await log.step(`download ${url}`, () => run('curl', ['-fsSL', '--retry', '2', '-o', part, url], { label: `download ${url}` }));
    fs.renameSync(part, file);
  } finally {
    fs.rmSync(part, { force: true });
  }
  return file;
}

export async function runInstall(s: InstallSettings, log: Logger): Promise<void> {
  const logPort = await freeUdpPort();
  const p = planInstall(s, process.env, logPort);
  if (!s.installed && p.automation.injection !== 'initrd') {
    throw invalid(`${p.os.name}: its ${p.automation.filename} goes on a CIDATA disk, which kiln install cannot attach yet`, 'pass --installed DISK to run the second stage on a disk its installer wrote');
  }
  const outDir = path.dirname(path.resolve(s.output));
  if (!fs.existsSync(outDir)) throw invalid(`-o ${s.output}: directory ${outDir} does not exist`);
  const bundle = `${s.output}.install-failure`;
  const unlock = lockOutput(s.output);
  try {
    fs.rmSync(bundle, { recursive: true, force: true });
    await installIn(p, s, bundle, log);
  } finally {
    unlock();
  }
}

async function installIn(p: InstallPlan, s: InstallSettings, bundle: string, log: Logger): Promise<void> {
  await withScope(async (scope) => {
    const work = await scopedTempDir(scope, 'kiln-install', 'remove the install work directory');
    const disk = path.join(work, 'disk.qcow2');
    if (s.installed) {
      const { format } = selfContainedDisk(s.installed, '--installed');
      await run('qemu-img', ['convert', '-f', format, '-O', 'qcow2', s.installed, disk], { label: 'copy the installed disk' });
    } else {
      await firstStage(scope, p, s, work, disk, bundle, log);
    }
    await secondStage(scope, p, s, work, disk, log);
  });
}

async function firstStage(scope: Scope, p: InstallPlan, s: InstallSettings, work: string, disk: string, bundle: string, log: Logger): Promise<void> {
  const inst = p.installer;
  if (!inst) throw failed('no installer kernel and initrd');
  const kernel = await fetchCached(inst.kernel, s.imageCache, log);
  const initrd = await fetchCached(inst.initrd, s.imageCache, log);
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', disk, `${p.diskGb}G`], { label: 'create the install disk' });
  const automationFile = path.join(work, p.automation.filename);
  fs.writeFileSync(automationFile, p.automation.text);
  // A second cpio archive after the installer's own: the kernel unpacks both, so the file sits at / .
  const staging = path.join(work, 'inject');
  fs.mkdirSync(staging);
  fs.writeFileSync(path.join(staging, p.automation.filename), p.automation.text);
  await packRamdisk(staging, path.join(work, 'inject.cpio.gz'), 'gzip');
  const bootInitrd = path.join(work, 'initrd.gz');
  fs.writeFileSync(bootInitrd, Buffer.concat([fs.readFileSync(initrd), fs.readFileSync(path.join(work, 'inject.cpio.gz'))]));
  const consoleLog = path.join(work, 'console.log');
  const syslog = path.join(work, 'installer.log');
  log.info(`kiln install: ${p.os.name} with ${p.automation.filename}; installer from ${inst.from}`);
  const outcome: InstallOutcome = await log.step(`install ${p.os.name} (the installer, in a VM)`, () =>
    withScope((vmScope) =>
      qemuBackend.install(vmScope, { kernel, initrd: bootInitrd, append: p.append, disk, memoryMb: p.memoryMb, cpus: p.cpus, workDir: work, consoleLog, syslog, logPort: p.logPort, inactivityS: s.inactivityS, timeoutS: s.timeoutS, log }),
    ),
  );
  if (outcome.ok) {
    log.info(`  the installer powered off after ${outcome.seconds.toFixed(0)} s (stages: ${outcome.progress.stages.map((x) => `${x.stage} ${x.at.toFixed(0)} s`).join(', ')})`);
    return;
  }
  writeBundle(bundle, { consoleLog, syslog, automationFile, outcome });
  throw failed(`${outcome.why === 'stalled' ? 'the installer stalled' : outcome.message} at stage "${outcome.progress.stage}"${outcome.why === 'stalled' ? `: ${outcome.message}` : ''}${missing(outcome.progress)}`, {
    detail: `  failure bundle: ${bundle}/ (console.log, installer.log, ${p.automation.filename}, activity.txt, report.txt)`,
  });
}

function missing(p: Progress): string {
  if (p.failedFetches.length > 0) return `; it could not fetch ${p.failedFetches.join(', ')}`;
  return p.fetching && p.stage === 'installer components' ? `; it was fetching ${p.fetching}` : '';
}

function writeBundle(dir: string, o: { consoleLog: string; syslog: string; automationFile: string; outcome: Extract<InstallOutcome, { ok: false }> }): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of [o.consoleLog, o.syslog, o.automationFile]) if (fs.existsSync(f)) fs.copyFileSync(f, path.join(dir, path.basename(f)));
  const out = o.outcome;
  fs.writeFileSync(path.join(dir, 'activity.txt'), `${activityTable(out.samples)}\n`);
  const report = [
    `outcome: ${out.why}: ${out.message}`,
    `after: ${out.seconds.toFixed(0)} s`,
    `last stage: ${out.progress.stage}`,
    `stages: ${out.progress.stages.map((x) => `${x.stage} at ${x.at.toFixed(0)} s`).join(', ')}`,
    `fetching: ${out.progress.fetching ?? '-'}`,
    `could not fetch: ${out.progress.failedFetches.join(', ') || '-'}`,
    'last problems in the installer log:',
    ...out.progress.problems.map((l) => `  ${l}`),
  ];
  fs.writeFileSync(path.join(dir, 'report.txt'), `${report.join('\n')}\n`);
}

async function secondStage(scope: Scope, p: InstallPlan, s: InstallSettings, work: string, disk: string, log: Logger): Promise<void> {
  const tree = path.join(work, 'facts');
  fs.mkdirSync(path.join(tree, 'var/lib/dpkg'), { recursive: true });
  fs.mkdirSync(path.join(tree, 'etc'), { recursive: true });
  await log.step('boot the installed disk and customise it over SSH', () =>
    withBootedImage({ image: disk, persist: true, ssh: true, sshKey: s.sshKey, timeoutS: Math.max(600, s.inactivityS), consoleLog: path.join(work, 'second-stage.log') }, async (vm) => {
      if (!vm.report.ok) throw failed(`the installed system did not come up: ${vm.report.message}`, { detail: `  console: ${path.join(work, 'second-stage.log')}` });
      log.info(`  ${vm.report.message}`);
      const sh = async (what: string, command: string, timeoutS = 1800) => {
        const r = await vm.ssh(command, { timeoutS });
        for (const l of `${r.stdout}`.split('\n').filter(Boolean).slice(-5)) log.output(l);
        if (r.exitCode !== 0) throw failed(`${what} exited ${r.exitCode} on the installed system`, { detail: r.stderr.split('\n').slice(-10).map((l) => `    ${l}`).join('\n') });
        return r.stdout;
      };
      if (s.packages.length > 0) {
        // kickstart installs a Red Hat family system (dnf), preseed and autoinstall Debian and Ubuntu (apt).
        const tool = toolFor(p.automation.kind === 'kickstart' ? 'redhat' : 'debian', true);
        const cmd = [updateCommand(tool), installCommand(tool, s.packages, 'defaults')].flatMap((c) => (c ? [shellLine(c)] : [])).join(' && ');
        await log.step(`install ${s.packages.join(' ')}`, () => sh('installing packages', cmd));
      }
      if (s.spec) {
        const spec = loadSpec(s.spec, { resourceRoots: [] });
        for (const n of spec.notes) log.warn(formatIssue(n));
        const known = path.join(work, 'known_hosts');
        const scan = await run('ssh-keyscan', ['-p', String(vm.sshPort), '127.0.0.1'], { label: 'ssh-keyscan', allowFailure: true });
        fs.writeFileSync(known, scan.stdout);
        const target = await SshTarget.open({ user: 'root', host: '127.0.0.1', port: vm.sshPort }, { identity: s.sshKey, knownHosts: known });
        let ok = false;
        try {
          const report = await runSpec(spec, target, { testOnly: false, args: new Map() });
          log.info(`  ${summarize(report)}`);
          ok = report.ok;
          if (!report.ok) throw failed(`the spec ${s.spec} does not hold on the installed system`);
        } finally {
          await target.close(ok ? 'commit' : 'discard');
        }
      }
      fs.writeFileSync(path.join(tree, 'var/lib/dpkg/status'), await sh('reading the package list', 'cat /var/lib/dpkg/status 2>/dev/null || true'));
      fs.writeFileSync(path.join(tree, 'etc/os-release'), await sh('reading os-release', 'cat /etc/os-release'));
      await sh('syncing', 'sync', 120);
      await vm.ssh('systemctl poweroff || poweroff', { timeoutS: 30 });
      if (!(await vm.waitForExit(180))) throw failed('the installed system did not power off within 180 s');
    }),
  );
  const raw = path.join(work, 'disk.raw');
  await log.step('convert the disk', () => run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', disk, raw], { label: 'qemu-img convert' }));
  await log.step('write outputs', async () => {
    const report = await writeOutputs(scope, {
      tree,
      disk: { raw },
      outputs: p.outputs,
      uncompressed: false,
      checksum: s.checksum,
      build: { flavours: [`install:${p.os.shortIds[0]}`], arch: 'amd64' },
      onWritten: (r) => log.info(`  ${r.path}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB (${r.seconds.toFixed(1)} s)`),
    });
    if (report.manifest) log.info(`  manifest: ${report.manifest}`);
  });
}

/** A package command as one line for a remote shell: `env K=V … argv`. */
function shellLine(c: CommandSpec): string {
  const env = Object.entries(c.env).map(([k, v]) => `${k}=${quoteShell(v)}`);
  return [...(env.length > 0 ? ['env', ...env] : []), ...c.argv.map(quoteShell)].join(' ');
}
