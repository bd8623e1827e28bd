/**
 * Cloud metadata for a booted image, on a drive kiln makes itself: an OpenStack config drive (ISO 9660
 * labelled `config-2`: openstack/latest/meta_data.json and user_data) or a NoCloud seed (labelled `cidata`:
 * meta-data and user-data). What goes on it is a pure function of the options (seedFiles); loadSeedInput reads
 * and checks the user's files (every error names the flag and the file: exit 2); writeSeedIso writes the image.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { failed, invalid } from '../errors/index.js';
import { hasCommand, run } from '../exec/index.js';
import { SEED_KINDS, type SeedKind } from './choices.js';

export { SEED_KINDS, type SeedKind };

export interface SeedOptions {
  readonly kind: SeedKind;
  /** A JSON object in OpenStack's meta_data.json form (uuid, hostname, public_keys, …). */
  readonly metadataFile?: string;
  readonly userDataFile?: string;
}

/** What the drive is made from, once the files are read and checked. */
export interface SeedInput {
  readonly kind: SeedKind;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly userData?: Buffer;
  /** OpenSSH public key lines added to the metadata's own. */
  readonly publicKeys: readonly string[];
}

export interface SeedImage {
  readonly label: 'config-2' | 'cidata';
  /** Path inside the drive → content. */
  readonly files: Readonly<Record<string, string | Buffer>>;
}

function readInput(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw invalid(`${flag}: cannot read "${file}" (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (e as Error).message})`);
  }
}

/** Parses and checks a --metadata file: a JSON object; uuid and hostname strings; public_keys an object of key lines. */
export function parseMetadata(text: string, file: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw invalid(`--metadata: "${file}" is not valid JSON (${(e as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalid(`--metadata: "${file}" must hold a JSON object (OpenStack's meta_data.json)`);
  const md = data as Record<string, unknown>;
  for (const field of ['uuid', 'hostname', 'name']) {
    if (md[field] !== undefined && (typeof md[field] !== 'string' || md[field] === '')) throw invalid(`--metadata: "${file}": "${field}" must be a non-empty string`);
  }
  const keys = md.public_keys;
  if (keys !== undefined) {
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys) || Object.values(keys).some((k) => typeof k !== 'string')) {
      throw invalid(`--metadata: "${file}": "public_keys" must be an object of name → public key line`);
    }
  }
  return md;
}

/** The public half of a private key file: KEY.pub beside it. */
export function readPublicKey(privateKey: string): string {
  const pub = `${privateKey}.pub`;
  let text: string;
  try {
    text = fs.readFileSync(pub, 'utf8');
  } catch {
    throw invalid(`--ssh-key: no public key "${pub}" beside "${privateKey}" to put on the metadata drive`);
  }
  const line = text.split('\n').find((l) => /^(ssh-|ecdsa-|sk-)\S+ \S+/.test(l));
  if (!line) throw invalid(`--ssh-key: "${pub}" holds no OpenSSH public key line`);
  return line.trim();
}

export function loadSeedInput(opts: SeedOptions, publicKeys: readonly string[]): SeedInput {
  const metadata = opts.metadataFile === undefined ? {} : parseMetadata(readInput(opts.metadataFile, '--metadata').toString('utf8'), opts.metadataFile);
  const userData = opts.userDataFile === undefined ? undefined : readInput(opts.userDataFile, '--user-data');
  return { kind: opts.kind, metadata, ...(userData ? { userData } : {}), publicKeys };
}

/** The drive's files. `uuid` is used when the metadata names none (one per boot: a new instance each time). */
export function seedFiles(input: SeedInput, uuid: string = randomUUID()): SeedImage {
  const md = input.metadata;
  const id = typeof md.uuid === 'string' ? md.uuid : uuid;
  const hostname = typeof md.hostname === 'string' ? md.hostname : `kiln-${id.slice(0, 8)}`;
  const keys: Record<string, string> = { ...((md.public_keys as Record<string, string> | undefined) ?? {}) };
  input.publicKeys.forEach((k, i) => {
    if (!Object.values(keys).includes(k)) keys[i === 0 && keys.kiln === undefined ? 'kiln' : `kiln-${i}`] = k;
  });
  switch (input.kind) {
    case 'config-drive': {
      const meta = { ...md, uuid: id, hostname, name: typeof md.name === 'string' ? md.name : hostname, public_keys: keys, launch_index: md.launch_index ?? 0 };
      return {
        label: 'config-2',
        files: {
          'openstack/latest/meta_data.json': `${JSON.stringify(meta, null, 2)}\n`,
          ...(input.userData ? { 'openstack/latest/user_data': input.userData } : {}),
        },
      };
    }
    case 'nocloud': {
      // NoCloud reads meta-data as YAML, of which JSON is a subset; both files must exist.
      const { uuid: _u, hostname: _h, name: _n, public_keys: _k, ...rest } = md;
      const meta = { ...rest, 'instance-id': id, 'local-hostname': hostname, 'public-keys': Object.values(keys) };
      return { label: 'cidata', files: { 'meta-data': `${JSON.stringify(meta, null, 2)}\n`, 'user-data': input.userData ?? '' } };
    }
  }
}

/** The ISO 9660 tool found on PATH, as the argv prefix of a mkisofs-style command. */
async function isoTool(): Promise<string[]> {
  if (await hasCommand('genisoimage')) return ['genisoimage'];
  if (await hasCommand('xorrisofs')) return ['xorrisofs'];
  if (await hasCommand('xorriso')) return ['xorriso', '-as', 'mkisofs'];
  throw failed('making a metadata drive needs genisoimage or xorriso', { hint: 'install the genisoimage package (scripts/setup does)' });
}

/** Writes the drive as an ISO 9660 image (Rock Ridge and Joliet names) at `iso`, staging its files in `stage`. */
export async function writeSeedIso(image: SeedImage, stage: string, iso: string): Promise<void> {
  for (const [rel, content] of Object.entries(image.files)) {
    const file = path.join(stage, rel);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, content);
  }
  const [cmd, ...pre] = await isoTool();
  await run(cmd!, [...pre, '-quiet', '-output', iso, '-volid', image.label, '-joliet', '-rock', stage], { label: `${cmd} (the ${image.label} drive)` });
}
