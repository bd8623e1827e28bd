/**
 * Architectures, in one table: Debian's name (what kiln builds and its options take), the kernel's
 * (`uname -m`: what Glance and Nova call it), and the other spellings accepted (Node's process.arch among them).
 */
const ARCHES: readonly { readonly debian: string; readonly uname: string; readonly aliases: readonly string[] }[] = [
  { debian: 'amd64', uname: 'x86_64', aliases: ['x64'] },
  { debian: 'arm64', uname: 'aarch64', aliases: [] },
  { debian: 'i386', uname: 'i686', aliases: ['ia32'] },
  { debian: 'armhf', uname: 'armv7l', aliases: [] },
  { debian: 'ppc64el', uname: 'ppc64le', aliases: [] },
  { debian: 's390x', uname: 's390x', aliases: [] },
  { debian: 'riscv64', uname: 'riscv64', aliases: [] },
];

/** Debian's name for any spelling of an architecture (x86_64, x64 → amd64), or undefined. */
export function debianArch(name: string): string | undefined {
  const n = name.trim().toLowerCase();
  return ARCHES.find((a) => a.debian === n || a.uname === n || a.aliases.includes(n))?.debian;
}

/** The kernel's name for a Debian architecture (amd64 → x86_64); unknown names are returned as they are. */
export function unameArch(debian: string): string {
  return ARCHES.find((a) => a.debian === debian)?.uname ?? debian;
}

/** Debian's names of every architecture kiln knows. */
export const DEBIAN_ARCHES: readonly string[] = ARCHES.map((a) => a.debian);
