/**
 * The install VM: a blank disk, the installer's kernel and initrd (the automation file appended to it) booted
 * directly with the automation command line, its serial console logged with timestamps, its syslog received
 * over UDP (debian-installer's log_host/log_port; QEMU's user networking delivers 10.0.2.2:PORT to the
 * host's loopback), user-mode networking captured to count packets. Progress is read from the installer's
 * log; disk I/O (QMP query-blockstats), network payload, new console and new log lines are sampled, and when
 * none moves for the inactivity time the run is a stall (a dialog redrawn, keep-alives and repeated log lines
 * are not activity). The installer powering the VM off is success.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { chooseAccel } from '../boot/accel.js';
import { queryBlockTotals } from '../boot/qmp.js';
import { findFreePort, requireQemuStarted, startSession, type Session } from '../boot/session.js';
import type { Logger } from '../log/index.js';
import type { Scope } from '../scope/index.js';
import { consoleKey, emptyProgress, idleFor, logKey, moved, Novelty, PCAP_START, readLogLine, readPcap, type PcapCursor, type Progress, type Sample, type Stage } from './progress.js';

export interface InstallVmOptions {
  readonly kernel: string;
  readonly initrd: string;
  readonly append: string;
  readonly disk: string;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly workDir: string;
  readonly consoleLog: string;
  readonly syslog: string;
  /** The UDP port on 127.0.0.1 the installer's syslog reaches (bound here). */
  readonly logPort: number;
  readonly inactivityS: number;
  readonly timeoutS: number;
  readonly sampleS?: number;
  readonly log: Logger;
}

export type InstallOutcome =
  | { readonly ok: true; readonly seconds: number; readonly progress: Progress; readonly samples: readonly Sample[] }
  | { readonly ok: false; readonly why: 'stalled' | 'timeout' | 'qemu-exited'; readonly message: string; readonly seconds: number; readonly progress: Progress; readonly samples: readonly Sample[] };

/** A free UDP port on 127.0.0.1 (bound, then released, like findFreePort for TCP). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

export async function runInstaller(scope: Scope, o: InstallVmOptions): Promise<InstallOutcome> {
  let progress = emptyProgress();
  // Progress, not noise: console and log lines count only when they say something new, network traffic
  // only by its TCP/UDP payloads (no ARP, keep-alives, DHCP, DNS or the installer's own log packets).
  let logLines = 0;
  let newLogLines = 0;
  let consoleLines = 0;
  const newConsole = new Novelty(consoleKey);
  const newLog = new Novelty(logKey);
  let session: Session | undefined;
  const syslog = fs.openSync(o.syslog, 'w');
  scope.defer('close the installer log', () => fs.closeSync(syslog));
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(o.logPort, '127.0.0.1', () => resolve());
  });
  scope.defer('stop the installer log listener', () => new Promise<void>((r) => udp.close(() => r())));
  const elapsed = () => session?.elapsed() ?? 0;
  const reported = new Set<Stage>(['started']);
  udp.on('message', (msg) => {
    for (const raw of msg.toString('utf8').split('\n')) {
      if (raw.trim() === '') continue;
      const at = elapsed();
      logLines++;
      if (newLog.isNew(raw)) newLogLines++;
      fs.writeSync(syslog, `[${at.toFixed(3).padStart(8)}] ${raw.replace(/\r/g, '')}\n`);
      progress = readLogLine(progress, raw, at);
      if (!reported.has(progress.stage)) {
        reported.add(progress.stage);
        o.log.info(`  stage: ${progress.stage} (${at.toFixed(0)} s)`);
        o.log.event({ event: 'install-stage', stage: progress.stage, seconds: at });
      }
    }
  });
  const accel = await chooseAccel('auto');
  const capture = path.join(o.workDir, 'net.pcap');
  const qmp = path.join(o.workDir, 'qmp.sock');
  session = startSession(
    {
      accel: accel.accel,
      memoryMb: o.memoryMb,
      cpus: o.cpus,
      disks: [{ file: o.disk, format: 'qcow2' }],
      diskInterface: 'virtio',
      persist: true,
      kernel: { file: o.kernel, initrd: o.initrd, append: o.append },
      sshPort: await findFreePort(),
      qmpSocket: qmp,
      netCapture: capture,
    },
    scope,
    { consoleLog: o.consoleLog, onConsoleLine: (line) => void (newConsole.isNew(line) && consoleLines++) },
  );
  o.log.info(`  installer VM: ${accel.accel} (${accel.reason}), ${o.memoryMb} MiB, ${o.cpus} CPU; console ${o.consoleLog}; installer log ${o.syslog}`);
  const samples: Sample[] = [];
  let net = PCAP_START;
  const sampleMs = (o.sampleS ?? 5) * 1000;
  const deadline = Date.now() + o.timeoutS * 1000;
  const s = session;
  for (;;) {
    await s.until(() => (s.exit ? true : undefined), Math.min(deadline, Date.now() + sampleMs));
    if (s.exit) {
      requireQemuStarted(s);
      const seconds = s.elapsed();
      const clean = s.exit.exitCode === 0 && !s.exit.signal;
      return clean
        ? { ok: true, seconds, progress, samples }
        : { ok: false, why: 'qemu-exited', message: `QEMU exited ${s.exit.signal ?? s.exit.exitCode ?? s.exit.error} during the install`, seconds, progress, samples };
    }
    const disk = await queryBlockTotals(qmp);
    const prev = samples[samples.length - 1];
    const cpu = logLines === 0 ? cpuSeconds(s.proc.pid) : (prev?.bootCpu ?? 0);
    samples.push({
      at: s.elapsed(),
      bootCpu: cpu,
      diskRead: disk?.rdBytes ?? prev?.diskRead ?? 0,
      diskWritten: disk?.wrBytes ?? prev?.diskWritten ?? 0,
      net: (net = readNewPackets(capture, net, o.logPort)).bytes,
      consoleLines,
      logLines: newLogLines,
    });
    const n = samples.length;
    if (n >= 2 && moved(samples[n - 2] as Sample, samples[n - 1] as Sample).length === 0 && idleFor(samples) >= o.inactivityS) {
      return { ok: false, why: 'stalled', message: `no disk, network, console or installer-log activity${logLines === 0 ? ' and an idle CPU' : ''} for ${idleFor(samples).toFixed(0)} s`, seconds: s.elapsed(), progress, samples };
    }
    if (Date.now() >= deadline) {
      return { ok: false, why: 'timeout', message: `the install did not finish within ${o.timeoutS} s`, seconds: s.elapsed(), progress, samples };
    }
  }
}

/** The capture read on from where `cur` stopped (the packets QEMU has written since). */
function readNewPackets(capture: string, cur: PcapCursor, logPort: number): PcapCursor {
  let fd: number;
  try {
    fd = fs.openSync(capture, 'r');
  } catch {
    return cur;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size <= cur.offset) return cur;
    const buf = Buffer.alloc(Math.min(size - cur.offset, 64 * 2 ** 20));
    const n = fs.readSync(fd, buf, 0, buf.length, cur.offset);
    return readPcap(cur, buf.subarray(0, n), new Set([logPort]));
  } finally {
    fs.closeSync(fd);
  }
}

/** User plus system CPU seconds of a process (QEMU), from /proc; 0 when it is gone. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}
