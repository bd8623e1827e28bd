/**
 * deb822 control syntax (dpkg's status file, apt's .sources files), read once for everyone: stanzas separated
 * by blank lines, "Field: value" lines, continuation lines starting with a space or tab (joined with "\n",
 * without that first character), "#" comment lines ignored.
 */

/** The stanzas of deb822 text, each a map of field (as written) → value. */
export function parseStanzas(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (cur.size > 0) out.push(cur);
      cur = new Map();
      last = undefined;
    } else if (line.startsWith('#')) {
      continue;
    } else if (/^[ \t]/.test(line) && last !== undefined) {
      cur.set(last, `${cur.get(last) ?? ''}\n${line.slice(1)}`);
    } else {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      last = line.slice(0, i);
      cur.set(last, line.slice(i + 1).trim());
    }
  }
  if (cur.size > 0) out.push(cur);
  return out;
}
