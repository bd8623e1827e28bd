/**
 * Architectures, in one table: Debian's name (what kiln builds and its options take), the kernel's
 * (`uname -m`: what Glance and Nova call it), the OCI image config's (Go's GOARCH, with the variant where the
 * OCI image spec lists one), and the other spellings accepted (Node's process.arch among them).
 */
import { invalid } from '../errors/index.js';

interface Arch {
  readonly debian: string;
  readonly uname: string;
  readonly oci: { readonly architecture: string; readonly variant?: string };
  readonly aliases: readonly string[];
}
const ARCHES: readonly Arch[] = [
  { debian: 'amd64', uname: 'x86_64', oci: { architecture: 'amd64' }, aliases: ['x64'] },
  { debian: 'arm64', uname: 'aarch64', oci: { architecture: 'arm64', variant: 'v8' }, aliases: [] },
  { debian: 'i386', uname: 'i686', oci: { architecture: '386' }, aliases: ['ia32'] },
  { debian: 'armhf', uname: 'armv7l', oci: { architecture: 'arm', variant: 'v7' }, aliases: [] },
  { debian: 'ppc64el', uname: 'ppc64le', oci: { architecture: 'ppc64le' }, aliases: [] },
  { debian: 's390x', uname: 's390x', oci: { architecture: 's390x' }, aliases: [] },
  { debian: 'riscv64', uname: 'riscv64', oci: { architecture: 'riscv64' }, aliases: [] },
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

/**
 * The OCI platform of a Debian architecture (amd64 → amd64, arm64 → arm64 v8, armhf → arm v7, i386 → 386,
 * ppc64el → ppc64le); an unknown name is refused (exit 2): an image labelled with a wrong platform would be
 * pulled by hosts that cannot run it.
 */
export function ociPlatform(debian: string): { readonly architecture: string; readonly variant?: string } {
  const a = ARCHES.find((x) => x.debian === debian);
  if (!a) throw invalid(`architecture "${debian}": kiln knows no OCI platform for it`, `one of ${ARCHES.map((x) => x.debian).join(', ')}`);
  return a.oci;
}

/** Debian's names of every architecture kiln knows. */
export const DEBIAN_ARCHES: readonly string[] = ARCHES.map((a) => a.debian);
