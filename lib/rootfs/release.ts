/**
 * Which release a build makes, read from the mirror itself: a suite name (stable, testing, …) becomes the
 * codename the mirror's Release file names (so the base tree, the step cache, pkg-map and DIB_RELEASE see
 * the codename, and a build of "stable" never restores last cycle's tree), and a Release file whose
 * Valid-Until has passed (a frozen copy of the archive) is noted so that apt's Check-Valid-Until, and only
 * that, is off for the build. Signatures are still checked by apt against the keyring.
 *
 * Each read is recorded under the image cache, so an --offline build resolves the same way as the last
 * online one did.
 */
import fs from 'node:fs';
import path from 'node:path';
import { failed, invalid } from '../errors/index.js';
import { parseStanzas } from '../distro/deb822.js';
import { debianRelease, describeReleases, isSuiteName, type ResolvedRelease } from '../distro/releases.js';

/** The fields kiln reads from a Release or InRelease file. */
export interface ReleaseFacts {
  readonly codename: string | undefined;
  readonly suite: string | undefined;
  readonly validUntil: Date | undefined;
}

/** Pure: the facts of Release text (an InRelease file's clearsigned wrapper is skipped, not verified: apt verifies). */
export function releaseFacts(text: string): ReleaseFacts {
  let body = text;
  if (body.startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) {
    const start = body.indexOf('\n\n');
    const end = body.indexOf('\n-----BEGIN PGP SIGNATURE-----');
    body = body.slice(start < 0 ? 0 : start + 2, end < 0 ? undefined : end);
  }
  const fields = parseStanzas(body)[0] ?? new Map<string, string>();
  const until = fields.get('Valid-Until');
  const date = until === undefined ? undefined : new Date(until);
  return { codename: fields.get('Codename'), suite: fields.get('Suite'), validUntil: date && !Number.isNaN(date.getTime()) ? date : undefined };
}

/** Pure: what a build of `asked` makes, given the mirror's Release facts (read now). */
export function resolveFromFacts(asked: string, facts: ReleaseFacts, now: Date, from: ResolvedRelease['from'] = 'mirror'): ResolvedRelease {
  const codename = isSuiteName(asked) ? facts.codename : asked;
  if (!codename) throw failed(`--release ${asked}: the mirror's Release file for ${asked} names no Codename`);
  return { asked, codename, validUntil: facts.validUntil?.toISOString(), expired: facts.validUntil !== undefined && facts.validUntil.getTime() < now.getTime(), from };
}

/** A release kiln can build, else exit 2 naming what the mirror made of the name and what is supported. */
export function checkResolved(r: ResolvedRelease): ResolvedRelease {
  if (debianRelease(r.codename)) return r;
  throw invalid(`--release ${r.asked}: the mirror's ${r.asked} is ${r.codename}, which this kiln cannot build; supported: ${describeReleases()}`);
}

/** Reads dists/SUITE/InRelease (else Release) from an http(s) or file: mirror. */
export async function readReleaseFile(mirror: string, suite: string, timeoutMs = 30_000): Promise<string> {
  const errors: string[] = [];
  for (const name of ['InRelease', 'Release']) {
    const url = `${mirror.replace(/\/+$/, '')}/dists/${suite}/${name}`;
    try {
      if (url.startsWith('file:')) return fs.readFileSync(new URL(url), 'utf8');
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (res.ok) return await res.text();
      errors.push(`${url}: HTTP ${res.status}`);
    } catch (e) {
      errors.push(`${url}: ${(e as Error).message}`);
    }
  }
  throw new Error(errors.join('; '));
}

type Records = Record<string, Record<string, { codename: string; validUntil?: string }>>;

const recordFile = (cacheDir: string) => path.join(cacheDir, 'kiln', 'releases.json');

function readRecords(cacheDir: string): Records {
  try {
    return JSON.parse(fs.readFileSync(recordFile(cacheDir), 'utf8')) as Records;
  } catch {
    return {};
  }
}

/** Records a read (atomically: concurrent builds each rename a whole file into place). */
function record(cacheDir: string, mirror: string, r: ResolvedRelease): void {
  const all = readRecords(cacheDir);
  all[mirror] = { ...all[mirror], [r.asked]: { codename: r.codename, ...(r.validUntil ? { validUntil: r.validUntil } : {}) } };
  const file = recordFile(cacheDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/**
 * Resolves the release a build names against its mirror (see the top of this file). Offline, or when the
 * mirror cannot be read, kiln's record of the last read stands in; a codename without one is taken as it is.
 * `record: false` (kiln plan, which changes nothing) reads without recording.
 */
export async function resolveRelease(o: { asked: string; mirror: string; offline: boolean; cacheDir: string; now?: Date; read?: typeof readReleaseFile; record?: boolean }): Promise<{ release: ResolvedRelease; note?: string }> {
  const now = o.now ?? new Date();
  const recorded = readRecords(o.cacheDir)[o.mirror]?.[o.asked];
  const fromRecord = (): ResolvedRelease | undefined =>
    recorded ? resolveFromFacts(o.asked, { codename: recorded.codename, suite: undefined, validUntil: recorded.validUntil ? new Date(recorded.validUntil) : undefined }, now, 'record') : undefined;
  const fallback = (why: string): { release: ResolvedRelease; note?: string } => {
    const r = fromRecord();
    if (r) return { release: checkResolved(r), note: `${why}: using what an earlier build read (${o.asked} is ${r.codename})` };
    if (isSuiteName(o.asked)) {
      const hint = 'name the codename instead (--release trixie, …), or build once with the mirror reachable';
      if (o.offline) throw invalid(`--offline: --release ${o.asked} is a suite name, and which release it is needs the mirror's Release file, which no earlier build read`, hint);
      throw failed(`--release ${o.asked}: which release it is needs the mirror's Release file: ${why}`, { hint });
    }
    return { release: { asked: o.asked, codename: o.asked, validUntil: undefined, expired: false, from: 'name' }, ...(o.offline ? {} : { note: why }) };
  };
  if (o.offline) return fallback('--offline');
  let text: string;
  try {
    text = await (o.read ?? readReleaseFile)(o.mirror, o.asked);
  } catch (e) {
    return fallback(`the mirror's Release file could not be read (${(e as Error).message})`);
  }
  const r = checkResolved(resolveFromFacts(o.asked, releaseFacts(text), now));
  if (o.record !== false) record(o.cacheDir, o.mirror, r);
  return { release: r };
}
