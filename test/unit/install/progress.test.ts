/**
 * Reading an installer's progress: stages from debian-installer's menu items, the component it was
 * fetching and the ones it could not fetch, idle time from counter samples, and the I/O table.
 */
import { activityTable, componentName, consoleKey, emptyProgress, idleFor, logKey, moved, Novelty, PCAP_START, readLogLine, readPcap, stripSyslogHeader, type Sample } from '../../../lib/install/progress.js';

const feed = (lines: string[]) => lines.reduce((p, l, i) => readLogLine(p, l, i * 10), emptyProgress());

test('stages advance with the menu items the installer selects, and never go back', () => {
  const p = feed([
    "<13>Dec  1 12:00:01 main-menu[231]: INFO: Menu item 'localechooser' selected",
    "<13>Dec  1 12:00:05 main-menu[231]: INFO: Menu item 'ethdetect' selected",
    "<13>Dec  1 12:00:09 main-menu[231]: INFO: Menu item 'netcfg' selected",
    "<13>Dec  1 12:02:00 main-menu[231]: INFO: Menu item 'choose-mirror' selected",
    "<13>Dec  1 12:02:05 main-menu[231]: INFO: Menu item 'download-installer' selected",
    "<13>Dec  1 12:02:09 main-menu[231]: INFO: Menu item 'netcfg' selected",
  ]);
  expect(p.stage).toBe('installer components');
  expect(p.stages.map((s) => `${s.stage}@${s.at}`)).toEqual(['started@0', 'network@10', 'mirror@30', 'installer components@40']);
});

test('the component being fetched and the ones that failed', () => {
  const p = feed([
    "main-menu[231]: INFO: Menu item 'download-installer' selected",
    'anna[1402]: DEBUG: retrieving partman-base 228',
    'anna[1402]: WARNING **: Failed to retrieve pool/main/p/partman-base/partman-base_228_amd64.udeb',
  ]);
  expect(p.fetching).toBe('partman-base');
  expect(p.failedFetches).toEqual(['partman-base']);
  expect(p.problems).toHaveLength(1);
  const q = feed(['anna[1402]: DEBUG: retrieving grub-installer 1.198', 'net-retriever: wget: server returned error: HTTP/1.1 404 Not Found']);
  expect(q.failedFetches).toEqual(['grub-installer']);
});

test('helpers: component names, syslog headers', () => {
  expect(componentName('pool/main/p/partman-base/partman-base_228_amd64.udeb')).toBe('partman-base');
  expect(componentName('finish-install')).toBe('finish-install');
  expect(stripSyslogHeader("<13>Dec  1 12:00:01 main-menu[231]: INFO: x")).toBe('main-menu[231]: INFO: x');
});

const s = (at: number, d = 0, n = 0, c = 0, l = 0, cpu = 0): Sample => ({ at, diskRead: d, diskWritten: 0, net: n, consoleLines: c, logLines: l, bootCpu: cpu });

test('idle time: since the last sample where any counter moved', () => {
  expect(idleFor([])).toBe(0);
  expect(idleFor([s(0), s(5), s(10)])).toBe(10);
  expect(idleFor([s(0), s(5, 100), s(10, 100), s(15, 100)])).toBe(10);
  expect(idleFor([s(0), s(5, 0, 0, 0, 1), s(10, 0, 0, 0, 1)])).toBe(5);
  expect(moved(s(0), s(5, 1, 1, 1, 1))).toEqual(['disk', 'network', 'console', 'log']);
});

test('the activity table: one row per interval with each counter\'s change and a bar; idle rows show a dot', () => {
  const t = activityTable([s(0), s(5, 4 * 2 ** 20, 2048), s(10, 4 * 2 ** 20, 2048)]);
  const rows = t.split('\n');
  expect(rows[0]).toMatch(/time\s+disk read\s+disk write\s+network\s+console\s+log/);
  expect(rows[1]).toMatch(/^\s+5 s\s+4\.0M\s+0\s+2K\s+0\s+0\s+#+$/);
  expect(rows[2]).toMatch(/^\s+10 s\s+0\s+0\s+0\s+0\s+0\s+\.$/);
});

test('the programs that log give the stage when the menu item went by before remote logging started', () => {
  const p = feed([
    '<14>Dec  1 12:18:40 main-menu[2025]: (process:2271): udhcpc: lease of 10.0.2.15 obtained from 10.0.2.2, lease time 86400',
    '<15>Dec  1 12:18:43 choose-mirror[2371]: DEBUG: command: wget --no-verbose http://mirror.example/debian/dists/bookworm/Release -O -',
    '<13>Dec  1 12:18:52 net-retriever: regular: dists/bookworm/Release /tmp/net-retriever-2443-Release',
    '<15>Dec  1 12:19:19 anna[2441]: DEBUG: retrieving apt-mirror-setup 1:0.182',
    '<14>Dec  1 12:19:20 anna[2441]: http://mirror.example/debian/pool/main/a/apt-setup/apt-mirror-setup_0.182_all.udeb:',
    '<14>Dec  1 12:19:20 anna[2441]: 2026-12-01 12:19:20 ERROR 404: Not Found.',
    '<12>Dec  1 12:19:20 anna[2441]: WARNING **: package retrieval failed',
  ]);
  expect(p.stages.map((s) => s.stage)).toEqual(['started', 'network', 'mirror', 'installer components']);
  expect(p.fetching).toBe('apt-mirror-setup');
  expect(p.failedFetches).toEqual(['apt-mirror-setup']);
  expect(p.problems.at(-1)).toContain('package retrieval failed');
});

test("progress, not noise: GNU screen's clock and a redrawn dialog are not new; the installer's own new lines are", () => {
  const console = new Novelty(consoleKey);
  expect(console.isNew('[            (1*installer)  2 shell  3 shell  4- log           ][ Dec 01 12:20 ]')).toBe(true);
  expect(console.isNew('[            (1*installer)  2 shell  3 shell  4- log           ][ Dec 01 12:21 ]')).toBe(false);
  expect(console.isNew('\x1b[1;1H\x1b[37;44m  Downloading a file failed:  \x1b[0m')).toBe(true);
  expect(console.isNew('\x1b[2;1H\x1b[37;44m  Downloading a file failed:\x1b[0m')).toBe(false); // the dialog drawn again
  expect(console.isNew("Prompt: '?' for help, default=1> ")).toBe(true);
  expect(console.isNew('\x1b[0m   ')).toBe(false);
  const log = new Novelty(logKey);
  expect(log.isNew('<13>Dec  1 12:20:01 anna[2310]: WARNING **: retrieving x.udeb failed')).toBe(true);
  expect(log.isNew('<13>Dec  1 12:21:01 anna[2311]: WARNING **: retrieving x.udeb failed')).toBe(false);
  expect(log.isNew('<13>Dec  1 12:21:02 anna[2311]: retrieving y.udeb')).toBe(true);
});

/** A pcap capture (little-endian, Ethernet) of the given frames. */
function pcap(frames: Buffer[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt32LE(1, 20);
  return Buffer.concat([head, ...frames.flatMap((f) => { const h = Buffer.alloc(16); h.writeUInt32LE(f.length, 8); h.writeUInt32LE(f.length, 12); return [h, f]; })]);
}

function ipv4(proto: number, l4: Buffer): Buffer {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length, 2);
  ip[9] = proto;
  return Buffer.concat([eth, ip, l4]);
}
const tcp = (payload: number) => { const h = Buffer.alloc(20 + payload); h[12] = 5 << 4; return h; };
const udp = (src: number, dst: number, payload: number) => { const h = Buffer.alloc(8 + payload); h.writeUInt16BE(src, 0); h.writeUInt16BE(dst, 2); h.writeUInt16BE(8 + payload, 4); return h; };

test('network progress is TCP and UDP payload: ARP, keep-alives, DHCP, DNS and the installer log packets are not', () => {
  const arp = Buffer.alloc(42);
  arp.writeUInt16BE(0x0806, 12);
  const frames = [arp, ipv4(6, tcp(0)), ipv4(6, tcp(1)), ipv4(6, tcp(1000)), ipv4(17, udp(40000, 5514, 300)), ipv4(17, udp(68, 67, 300)), ipv4(17, udp(40000, 53, 40)), ipv4(17, udp(40000, 9999, 50)), ipv4(1, Buffer.alloc(64))];
  const all = pcap(frames);
  expect(readPcap(PCAP_START, all, new Set([5514]))).toEqual({ offset: all.length, littleEndian: true, bytes: 1050 });
  // Read in two pieces, the first ending inside a packet: the same count, nothing twice.
  const cut = all.length - 30;
  const first = readPcap(PCAP_START, all.subarray(0, cut), new Set([5514]));
  expect(first.offset).toBeLessThan(cut);
  expect(readPcap(first, all.subarray(first.offset), new Set([5514])).bytes).toBe(1050);
});

test('while the installer boots, a busy CPU is activity; a nearly idle one is not', () => {
  expect(moved(s(0), s(5, 0, 0, 0, 0, 4))).toEqual(['cpu (booting)']);
  expect(moved(s(0), s(5, 0, 0, 0, 0, 0.5))).toEqual([]);
  expect(idleFor([s(0), s(5, 0, 0, 0, 0, 4), s(10, 0, 0, 0, 0, 8), s(15, 0, 0, 0, 0, 8.1)])).toBe(5);
});
