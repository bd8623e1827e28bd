/** Output formats: the closed set `-t` accepts, and what each writes. */
export const FORMATS = ['qcow2', 'raw', 'vhd', 'vmdk', 'tar', 'tgz', 'squashfs', 'oci'] as const;
export type Format = (typeof FORMATS)[number];

/** 'disk' formats need a partitioned disk image; 'tree' formats are made from the root tree alone. */
export type FormatKind = 'disk' | 'tree';

export function formatKind(f: Format): FormatKind {
  switch (f) {
    case 'qcow2':
    case 'raw':
    case 'vhd':
    case 'vmdk':
      return 'disk';
    case 'tar':
    case 'tgz':
    case 'squashfs':
    case 'oci':
      return 'tree';
  }
}

/** File extension, as diskimage-builder names its outputs (squashfs is ".squash"); an OCI image archive is ".oci.tar". */
export function formatExtension(f: Format): string {
  switch (f) {
    case 'squashfs':
      return 'squash';
    case 'oci':
      return 'oci.tar';
    default:
      return f;
  }
}

export function isFormat(s: string): s is Format {
  return (FORMATS as readonly string[]).includes(s);
}

/**
 * The files a build writes for `-o NAME`: NAME.<ext> per format. A NAME that already ends in the
 * extension of its only format keeps it (diskimage-builder strips it the same way).
 */
export function outputPaths(name: string, formats: readonly Format[]): { format: Format; path: string }[] {
  let base = name;
  const only = formats.length === 1 ? formats[0] : undefined;
  if (only && base.endsWith(`.${formatExtension(only)}`)) base = base.slice(0, -(formatExtension(only).length + 1));
  return formats.map((format) => ({ format, path: `${base}.${formatExtension(format)}` }));
}
