/**
 * Where an installer has got to, from its own log (debian-installer's syslog, sent to kiln over UDP), and
 * whether it is still doing anything (disk, network, console and log counters sampled over time). Pure:
 * the install VM feeds lines and samples in, and asks.
 */

export type Stage = 'started' | 'network' | 'mirror' | 'installer components' | 'partitioning' | 'base system' | 'packages' | 'bootloader' | 'power-off';
export const STAGES: readonly Stage[] = ['started', 'network', 'mirror', 'installer components', 'partitioning', 'base system', 'packages', 'bootloader', 'power-off'];

/** debian-installer's menu items (main-menu logs "Menu item 'X' selected") and the stage each begins. */
const DI_ITEMS: readonly [RegExp, Stage][] = [
  [/^(ethdetect|netcfg)/, 'network'],
  [/^choose-mirror/, 'mirror'],
  [/^(download-installer|anna)/, 'installer components'],
  [/^partman/, 'partitioning'],
  [/^(bootstrap-base|base-installer)/, 'base system'],
  [/^(apt-setup|pkgsel)/, 'packages'],
  [/^(grub-installer|nobootloader)/, 'bootloader'],
  [/^finish-install/, 'power-off'],
];

/** Programs whose log lines mean a stage has begun. */
const PROGRAMS: readonly [RegExp, Stage][] = [
  [/^(netcfg|udhcpc|dhclient)$/, 'network'],
  [/^choose-mirror$/, 'mirror'],
  [/^(anna|net-retriever)$/, 'installer components'],
  [/^partman/, 'partitioning'],
  [/^(base-installer|debootstrap)$/, 'base system'],
  [/^(pkgsel|tasksel)$/, 'packages'],
  [/^grub-installer$/, 'bootloader'],
  [/^finish-install$/, 'power-off'],
];

export interface Progress {
  readonly stage: Stage;
  readonly stages: readonly { stage: Stage; at: number }[];
  /** The component the installer was fetching last, and those it could not fetch. */
  readonly fetching: string | undefined;
  readonly failedFetches: readonly string[];
  /** The last lines that said something went wrong. */
  readonly problems: readonly string[];
}

export function emptyProgress(): Progress {
  return { stage: 'started', stages: [{ stage: 'started', at: 0 }], fetching: undefined, failedFetches: [], problems: [] };
}

/** One syslog line (with or without the "<PRI>Mon dd hh:mm:ss " header) seen at `at` seconds. */
export function readLogLine(p: Progress, raw: string, at: number): Progress {
  const line = stripSyslogHeader(raw);
  let next = p;
  const item = /main-menu\[\d+\]: INFO: Menu item '([^']+)' selected/.exec(line)?.[1];
  if (item) {
    const stage = DI_ITEMS.find(([re]) => re.test(item))?.[1];
    if (stage && STAGES.indexOf(stage) > STAGES.indexOf(next.stage)) next = { ...next, stage, stages: [...next.stages, { stage, at }] };
  }
  // Remote logging starts once the network is up, so the first menu items are never seen: the programs
  // that log tell the stage too.
  const program = /^([A-Za-z0-9_.-]+)(?:\[\d+\])?:/.exec(line)?.[1] ?? '';
  const byProgram = PROGRAMS.find(([re]) => re.test(program) || (program === 'main-menu' && re.test(line.replace(/^main-menu\[\d+\]: \(process:\d+\): /, '').split(':')[0] ?? '')))?.[1];
  if (byProgram && STAGES.indexOf(byProgram) > STAGES.indexOf(next.stage)) next = { ...next, stage: byProgram, stages: [...next.stages, { stage: byProgram, at }] };
  const fetching = /anna\[\d+\]: DEBUG: retrieving (\S+)/.exec(line)?.[1];
  if (fetching) next = { ...next, fetching };
  if (/\b(404|Not Found|error|failed|cannot|bad)\b/i.test(line) && !/DEBUG: retrieving/.test(line)) {
    const problems = [...next.problems, line].slice(-5);
    // The udeb the line names, else the one being fetched when the server said 404 or a fetch failed.
    const udeb = /(\S+\.udeb)\b/.exec(line)?.[1];
    const name = udeb ? componentName(udeb) : /\b404\b|Not Found|Failed to (retrieve|download)/i.test(line) ? next.fetching : undefined;
    next = { ...next, problems, ...(name && !next.failedFetches.includes(name) ? { failedFetches: [...next.failedFetches, name] } : {}) };
  }
  return next;
}

/** "pool/main/p/partman-base/partman-base_228_amd64.udeb" → "partman-base". */
export function componentName(s: string): string {
  const base = s.split('/').pop() ?? s;
  return base.replace(/\.udeb$/, '').split('_')[0] ?? base;
}

export function stripSyslogHeader(raw: string): string {
  return raw.replace(/^<\d+>/, '').replace(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /, '').trim();
}

/**
 * What a console line says, without what changes while nothing happens: terminal escapes (an unchanged
 * dialog redrawn), times of day (GNU screen's status bar redraws its clock every minute:
 * "[ (1*installer) 2 shell … ][ Dec 01 12:20 ]") and spacing.
 */
export function consoleKey(line: string): string {
  return line
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')
    .replace(/\x1b[()][0-9A-Za-z]/g, '')
    .replace(/\x1b[@-_]/g, '')
    .replace(/[\x00-\x08\x0e-\x1f\x7f]/g, '')
    .replace(/\b(?:[A-Z][a-z]{2} \d\d )?\d{1,2}:\d\d(?::\d\d)?\b/g, '<time>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** What an installer log line says, without its syslog header and process id. */
export function logKey(raw: string): string {
  return stripSyslogHeader(raw).replace(/\[\d+\]/, '[]').replace(/\s+/g, ' ').trim();
}

/**
 * Lines that say something new. An installer at an error dialog redraws it, and may log the same line
 * again and again: that is not progress, so only lines never seen before count as activity.
 */
export class Novelty {
  private readonly seen = new Set<string>();
  constructor(private readonly key: (line: string) => string) {}

  /** Whether the line says something not seen before (remembered from now on). */
  isNew(line: string): boolean {
    const k = this.key(line);
    if (k === '' || this.seen.has(k)) return false;
    if (this.seen.size >= 100_000) this.seen.clear();
    this.seen.add(k);
    return true;
  }
}

/** How far a pcap capture has been read, and the progress bytes found so far. */
export interface PcapCursor {
  readonly offset: number;
  readonly littleEndian: boolean;
  readonly bytes: number;
}

export const PCAP_START: PcapCursor = { offset: 0, littleEndian: true, bytes: 0 };

/** UDP ports whose traffic is housekeeping, not progress: DNS, DHCP, NTP, NetBIOS, DHCPv6, mDNS. */
const NOISE_UDP = new Set([53, 67, 68, 123, 137, 138, 546, 547, 5353]);

/**
 * Reads the complete packets in `buf` (the capture's bytes from `cur.offset` on; QEMU's filter-dump
 * writes pcap with Ethernet frames) and adds the bytes that are progress: TCP and UDP payloads. ARP,
 * ICMP, keep-alives (payloads of 0 or 1 byte), housekeeping UDP and the `ignoreUdp` ports (kiln's own
 * log listener: its lines are counted as log lines) are noise.
 */
export function readPcap(cur: PcapCursor, buf: Buffer, ignoreUdp: ReadonlySet<number>): PcapCursor {
  let at = 0;
  let le = cur.littleEndian;
  if (cur.offset === 0) {
    if (buf.length < 24) return cur;
    const magic = buf.readUInt32LE(0);
    le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
    at = 24;
  }
  let bytes = cur.bytes;
  for (;;) {
    if (at + 16 > buf.length) break;
    const incl = le ? buf.readUInt32LE(at + 8) : buf.readUInt32BE(at + 8);
    if (at + 16 + incl > buf.length) break;
    bytes += progressBytes(buf.subarray(at + 16, at + 16 + incl), ignoreUdp);
    at += 16 + incl;
  }
  return { offset: cur.offset + at, littleEndian: le, bytes };
}

/** The progress bytes of one Ethernet frame (see readPcap). */
export function progressBytes(f: Buffer, ignoreUdp: ReadonlySet<number>): number {
  if (f.length < 14) return 0;
  let l3 = 14;
  let type = f.readUInt16BE(12);
  if (type === 0x8100 && f.length >= 18) {
    type = f.readUInt16BE(16);
    l3 = 18;
  }
  let proto: number;
  let l4: number;
  let l4Len: number;
  if (type === 0x0800 && f.length >= l3 + 20) {
    const ihl = ((f[l3] as number) & 0x0f) * 4;
    proto = f[l3 + 9] as number;
    l4 = l3 + ihl;
    l4Len = f.readUInt16BE(l3 + 2) - ihl;
  } else if (type === 0x86dd && f.length >= l3 + 40) {
    proto = f[l3 + 6] as number;
    l4 = l3 + 40;
    l4Len = f.readUInt16BE(l3 + 4);
  } else {
    return 0; // ARP and the rest
  }
  let payload = 0;
  if (proto === 6 && f.length >= l4 + 13) {
    payload = l4Len - ((f[l4 + 12] as number) >> 4) * 4;
  } else if (proto === 17 && f.length >= l4 + 8) {
    const [src, dst] = [f.readUInt16BE(l4), f.readUInt16BE(l4 + 2)];
    if (NOISE_UDP.has(src) || NOISE_UDP.has(dst) || ignoreUdp.has(src) || ignoreUdp.has(dst)) return 0;
    payload = f.readUInt16BE(l4 + 4) - 8;
  }
  return payload > 1 ? payload : 0;
}

/** Activity counters at one moment. */
export interface Sample {
  readonly at: number;
  readonly diskRead: number;
  readonly diskWritten: number;
  /** Bytes of network traffic captured so far. */
  readonly net: number;
  readonly consoleLines: number;
  readonly logLines: number;
  /**
   * CPU seconds of the VM, counted only while the installer boots (before its log starts): it detects
   * hardware for a minute and more under TCG without a word. Once it logs, only I/O counts, so an
   * installer spinning at a prompt is still a stall.
   */
  readonly bootCpu: number;
}

/** Whether anything moved between two samples, and what. */
export function moved(a: Sample, b: Sample): string[] {
  const out: string[] = [];
  if (b.diskRead !== a.diskRead || b.diskWritten !== a.diskWritten) out.push('disk');
  if (b.net !== a.net) out.push('network');
  if (b.consoleLines !== a.consoleLines) out.push('console');
  if (b.logLines !== a.logLines) out.push('log');
  if (b.bootCpu - a.bootCpu > 0.25 * Math.max(1, b.at - a.at)) out.push('cpu (booting)');
  return out;
}

/** Seconds since the last sample that differed from its predecessor (or since the first sample). */
export function idleFor(samples: readonly Sample[]): number {
  const last = samples[samples.length - 1];
  if (!last) return 0;
  for (let i = samples.length - 1; i > 0; i--) {
    if (moved(samples[i - 1] as Sample, samples[i] as Sample).length > 0) return last.at - (samples[i] as Sample).at;
  }
  return last.at - (samples[0] as Sample).at;
}

/** The I/O history as a small table: one row per interval, the change in each counter, and a bar. */
export function activityTable(samples: readonly Sample[], rows = 30): string {
  const out = ['   time   disk read  disk write   network  console  log  activity'];
  const step = Math.max(1, Math.ceil((samples.length - 1) / rows));
  for (let i = step; i < samples.length; i += step) {
    const a = samples[i - step] as Sample;
    const b = samples[i] as Sample;
    const d = (x: number) => (x >= 2 ** 20 ? `${(x / 2 ** 20).toFixed(1)}M` : x >= 1024 ? `${(x / 1024).toFixed(0)}K` : String(x));
    const total = b.diskRead - a.diskRead + b.diskWritten - a.diskWritten + b.net - a.net + (b.consoleLines - a.consoleLines) * 80 + (b.logLines - a.logLines) * 80;
    const bar = total === 0 ? '.' : '#'.repeat(Math.min(30, Math.max(1, Math.round(Math.log2(total + 1)))));
    out.push(
      `${b.at.toFixed(0).padStart(6)} s ${d(b.diskRead - a.diskRead).padStart(10)} ${d(b.diskWritten - a.diskWritten).padStart(11)} ${d(b.net - a.net).padStart(9)} ${String(b.consoleLines - a.consoleLines).padStart(8)} ${String(b.logLines - a.logLines).padStart(4)}  ${bar}`,
    );
  }
  return out.join('\n');
}
