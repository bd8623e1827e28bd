/**
 * os-release(5), read once for everyone: image specs (the distro a validator sees), manifests and SBOMs (the
 * image's id and version). KEY=value lines, values optionally quoted; inside double quotes \" \\ \$ \` are
 * escapes (os-release follows shell quoting).
 */

/** What manifests and SBOMs say of the image's system. */
export interface OsRelease {
  readonly id: string;
  readonly versionId: string | undefined;
  readonly prettyName: string | undefined;
}

/** Every field of os-release text. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(raw);
    if (!m || m[1] === undefined || m[2] === undefined) continue;
    let v = m[2].trim();
    const q = v[0];
    if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) {
      v = v.slice(1, -1);
      if (q === '"') v = v.replace(/\\(["\\$`])/g, '$1');
    }
    out[m[1]] = v;
  }
  return out;
}

/** The system's id ("linux" when os-release has none, as os-release(5) says), version and name. */
export function osReleaseOf(text: string): OsRelease {
  const f = parseOsRelease(text);
  return { id: f.ID ?? 'linux', versionId: f.VERSION_ID, prettyName: f.PRETTY_NAME };
}

/** The system of a tree without os-release. */
export const UNKNOWN_OS: OsRelease = { id: 'linux', versionId: undefined, prettyName: undefined };
