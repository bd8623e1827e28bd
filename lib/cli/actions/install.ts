/** `kiln install`: what runs once the options are parsed (loaded only then). */
import { findSshKey } from '../../boot/ssh.js';
import { parseFormats } from '../../config/parse.js';
import { defaultCache } from '../../config/settings.js';
import { invalid } from '../../errors/index.js';
import { installSignalHandlers } from '../../exec/cancel.js';
import { installable, loadCatalogue, OSINFO_DB } from '../../install/osinfo.js';
import { planInstall, renderInstallPlan, runInstall, type InstallSettings } from '../../install/run.js';
import { Logger } from '../../log/index.js';

export interface InstallOpts {
  os?: string;
  output?: string;
  types: string;
  size?: string;
  memory?: string;
  cpus: string;
  packages?: string;
  spec?: string;
  sshKey?: string;
  kernel?: string;
  initrd?: string;
  installed?: string;
  mirror?: string;
  hostname: string;
  locale: string;
  keyboard: string;
  timezone: string;
  inactivity: string;
  timeout: string;
  imageCache?: string;
  checksum?: boolean;
  dryRun?: boolean;
  list?: boolean;
  json?: boolean;
}

function positive(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw invalid(`${flag}: "${raw}" is not a positive whole number`);
  return n;
}

export function settingsFrom(o: InstallOpts): InstallSettings {
  if (!o.os) throw invalid('--os ID is required (kiln install --list shows the ids)');
  if (!o.output) throw invalid('-o NAME is required');
  return {
    os: o.os,
    output: o.output,
    types: parseFormats(o.types, '-t'),
    sizeGb: o.size === undefined ? undefined : positive(o.size, '--size'),
    memoryMb: o.memory === undefined ? undefined : positive(o.memory, '--memory'),
    cpus: positive(o.cpus, '--cpus'),
    packages: (o.packages ?? '').split(',').map((x) => x.trim()).filter(Boolean),
    spec: o.spec,
    sshKey: findSshKey(o.sshKey),
    kernel: o.kernel,
    initrd: o.initrd,
    installed: o.installed,
    mirror: o.mirror,
    hostname: o.hostname,
    locale: o.locale,
    keyboard: o.keyboard,
    timezone: o.timezone,
    inactivityS: positive(o.inactivity, '--inactivity'),
    timeoutS: positive(o.timeout, '--timeout'),
    imageCache: o.imageCache ?? process.env.DIB_IMAGE_CACHE ?? defaultCache(),
    checksum: o.checksum === true,
  };
}

function list(json: boolean): void {
  const seen = new Set<string>();
  const rows = [...loadCatalogue().values()].filter((e) => installable(e) && !seen.has(e.id) && seen.add(e.id));
  rows.sort((a, b) => a.distro.localeCompare(b.distro) || Number.parseFloat(a.version) - Number.parseFloat(b.version));
  if (json) {
    process.stdout.write(`${JSON.stringify(rows.map((e) => ({ id: e.shortIds[0], name: e.name, automation: e.automation, derivedFrom: e.derivedFrom ?? null, resources: e.resources })), null, 2)}\n`);
    return;
  }
  for (const e of rows) process.stdout.write(`${(e.shortIds[0] ?? '').padEnd(16)} ${e.name.padEnd(36)} ${(e.automation ?? '').padEnd(11)}${e.derivedFrom ? ` (derived from ${e.derivedFrom})` : ''}\n`);
  process.stdout.write(`${rows.length} operating systems from libosinfo's database (${OSINFO_DB}); Debian runs end to end here\n`);
}

/** `kiln install`'s action. */
export async function install(o: InstallOpts): Promise<void> {
  if (o.list) {
    list(o.json === true);
    return;
  }
  const s = settingsFrom(o);
  if (o.dryRun) {
    process.stdout.write(`${renderInstallPlan(planInstall(s, process.env, 5140), s)}\n`);
    return;
  }
  installSignalHandlers();
  const log = new Logger({ json: o.json === true });
  await runInstall(s, log);
}
