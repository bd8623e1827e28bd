/**
 * A busybox root tree that looks like Debian to image-pack: an os-release and a fake dpkg-query/apt-get pair
 * (shell scripts inside the tree keeping an installed-packages list there). Used by the spec e2e tests and
 * bench/latency.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));

const DPKG_QUERY = `#!/bin/sh
# fake dpkg-query -W -f=FORMAT NAME...: prints "name<TAB>version<TAB>ii " for installed packages
db=/var/lib/fake-dpkg/installed
shift 2
rc=0
for p in "$@"; do
  line=$(grep "^$p " "$db" | head -n 1)
  if [ -n "$line" ]; then printf '%s\\t%s\\tii \\n' "$p" "\${line#* }"; else echo "dpkg-query: no packages found matching $p" >&2; rc=1; fi
done
exit $rc
`;

const APT_GET = `#!/bin/sh
# fake apt-get -y install PKG[=VER]... (installs what the fake repository has), update, clean
echo "$*" >> /var/log/apt-calls
[ "$DEBIAN_FRONTEND" = noninteractive ] || { echo "E: DEBIAN_FRONTEND not set" >&2; exit 101; }
case "$*" in *update|clean) exit 0 ;; esac
shift 2
for p in "$@"; do
  name=\${p%%=*}; want=\${p#*=}; [ "$want" = "$p" ] && want=
  line=$(grep "^$name " /var/lib/fake-dpkg/available | head -n 1)
  [ -n "$line" ] || { echo "E: Unable to locate package $name" >&2; exit 100; }
  ver=\${line#* }
  [ -z "$want" ] || [ "$want" = "$ver" ] || { echo "E: Version '$want' for '$name' was not found" >&2; exit 100; }
done
for p in "$@"; do name=\${p%%=*}; grep "^$name " /var/lib/fake-dpkg/available >> /var/lib/fake-dpkg/installed; done
`;

/** A busybox root tree with a Debian os-release and the fake package tools. */
export function makeTree(root: string, available: Record<string, string>, installed: Record<string, string>): void {
  for (const d of ['bin', 'etc', 'tmp', 'usr/bin', 'var/lib/fake-dpkg', 'var/log', 'root']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.copyFileSync(BUSYBOX as string, path.join(root, 'bin/busybox'));
  fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX as string, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) fs.symlinkSync('busybox', path.join(root, 'bin', a));
  fs.writeFileSync(path.join(root, 'etc/os-release'), 'PRETTY_NAME="Fake Debian"\nID=debian\nVERSION_ID="12"\n');
  fs.writeFileSync(path.join(root, 'usr/bin/dpkg-query'), DPKG_QUERY, { mode: 0o755 });
  fs.writeFileSync(path.join(root, 'usr/bin/apt-get'), APT_GET, { mode: 0o755 });
  const list = (m: Record<string, string>) => Object.entries(m).map(([n, v]) => `${n} ${v}\n`).join('');
  fs.writeFileSync(path.join(root, 'var/lib/fake-dpkg/available'), list(available));
  fs.writeFileSync(path.join(root, 'var/lib/fake-dpkg/installed'), list(installed));
}

/** A checksum of the tree's content: every path, type, mode, symlink target and file content (not times). */
export function treeChecksum(root: string): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = fs.lstatSync(p);
      h.update(`${path.relative(root, p)}\0${st.mode}\0`);
      if (st.isSymbolicLink()) h.update(fs.readlinkSync(p));
      else if (st.isDirectory()) walk(p);
      else h.update(fs.readFileSync(p));
    }
  };
  walk(root);
  return h.digest('hex');
}
