import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isPartialName, partialPathFor, writeAtomically } from '../../../lib/output/atomic.js';
import { manifestBaseOf, writeOutputs } from '../../../lib/output/index.js';
import { Scope } from '../../../lib/scope/index.js';
import { tempDir } from '../../helpers/tmp.js';

/**
 * Fake qemu-img, tar, mksquashfs and pigz on PATH: each records its argv (one line, NUL-separated
 * words) and writes its name into the output file (after "KDMV" for a vmdk), or fails when FAKE_FAIL names it.
 */
const FAKE = `#!/bin/sh
name=$(basename "$0")
printf '%s' "$name" >> "$FAKE_LOG"; for a in "$@"; do printf '\\0%s' "$a" >> "$FAKE_LOG"; done; echo >> "$FAKE_LOG"
out=""
case "$name" in
  qemu-img) for a in "$@"; do out="$a"; done ;;
  tar) prev=""; for a in "$@"; do [ "$prev" = "--file" ] && out="$a"; prev="$a"; done ;;
  mksquashfs) out="$2" ;;
esac
# A vmdk starts with its magic (kiln rewrites the descriptor it would name; offset 0: none).
[ -n "$out" ] && { case "$*" in *'-O vmdk'*) printf 'KDMV' > "$out" ;; *) : > "$out" ;; esac; printf 'made by %s\\n' "$name" >> "$out"; }
[ "$FAKE_FAIL" = "$name" ] && { echo "$name: simulated failure" >&2; exit 1; }
exit 0
`;

let dir: string;
let tree: string;
let oldPath: string | undefined;
beforeAll(() => {
  dir = tempDir('output');
  fs.mkdirSync(path.join(dir, 'bin'));
  for (const t of ['qemu-img', 'tar', 'mksquashfs', 'pigz']) fs.writeFileSync(path.join(dir, 'bin', t), FAKE, { mode: 0o755 });
  tree = path.join(dir, 'tree');
  fs.mkdirSync(path.join(tree, 'var/lib/dpkg'), { recursive: true });
  fs.mkdirSync(path.join(tree, 'etc'));
  fs.copyFileSync(path.join(process.cwd(), 'test/fixtures/dpkg/status'), path.join(tree, 'var/lib/dpkg/status'));
  fs.writeFileSync(path.join(tree, 'etc/os-release'), 'ID=debian\nVERSION_ID="12"\n');
  oldPath = process.env.PATH;
  process.env.PATH = `${path.join(dir, 'bin')}:${oldPath ?? ''}`;
  process.env.FAKE_LOG = path.join(dir, 'argv.log');
});
afterAll(() => {
  process.env.PATH = oldPath;
  delete process.env.FAKE_FAIL;
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => fs.rmSync(path.join(dir, 'argv.log'), { force: true }));

const logged = () => fs.readFileSync(path.join(dir, 'argv.log'), 'utf8').trim().split('\n').map((l) => l.split('\0'));
const out = (name: string) => path.join(dir, 'out', name);
const files = () => fs.readdirSync(path.join(dir, 'out')).sort();

test('every format in one call: renamed into place, checksums, manifest and SBOM', async () => {
  fs.rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  const scope = new Scope();
  const formats = ['qcow2', 'raw', 'vhd', 'vmdk', 'tar', 'tgz', 'squashfs'] as const;
  const outputs = formats.map((format) => ({ format, path: out(`img.${format === 'squashfs' ? 'squash' : format}`) }));
  const report = await writeOutputs(scope, { tree, disk: { raw: '/w/disk.raw' }, outputs, uncompressed: false, checksum: true });
  await scope.close();
  expect(report.outputs.map((r) => r.format)).toEqual([...formats]);
  expect(logged().map((argv) => argv[0])).toEqual(['qemu-img', 'qemu-img', 'qemu-img', 'qemu-img', 'tar', 'tar', 'mksquashfs']);
  // tgz used pigz because it was on PATH.
  expect(logged()[5]).toContain('--use-compress-program=pigz -n');
  const expected = outputs.flatMap((o) => [path.basename(o.path), `${path.basename(o.path)}.md5`, `${path.basename(o.path)}.sha256`]);
  expect(files()).toEqual([...expected, 'img.cdx.json', 'img.manifest.json'].sort());
  const qcow = out('img.qcow2');
  const sha = crypto.createHash('sha256').update(fs.readFileSync(qcow)).digest('hex');
  expect(fs.readFileSync(`${qcow}.sha256`, 'utf8')).toBe(`${sha}  img.qcow2\n`);
  expect(report.outputs[0]?.checksums?.sha256).toBe(sha);
  expect(report.outputs[0]?.bytes).toBe(fs.statSync(qcow).size);
  expect(JSON.parse(fs.readFileSync(out('img.manifest.json'), 'utf8')).count).toBe(5);
  expect(JSON.parse(fs.readFileSync(out('img.cdx.json'), 'utf8')).specVersion).toBe('1.5');
  expect(report.manifest).toBe(out('img.manifest.json'));
});

test('a failing conversion leaves no partial file and no output; earlier outputs stay whole', async () => {
  fs.rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  process.env.FAKE_FAIL = 'mksquashfs';
  const scope = new Scope();
  try {
    await expect(
      writeOutputs(scope, { tree, outputs: [{ format: 'tar', path: out('x.tar') }, { format: 'squashfs', path: out('x.squash') }], uncompressed: false, checksum: false }),
    ).rejects.toThrow(/squashfs output \(mksquashfs\) exited 1/);
  } finally {
    delete process.env.FAKE_FAIL;
    await scope.close();
  }
  expect(files()).toEqual(['x.tar']);
});

test("a build without --checksum removes an earlier build's sums beside the output (they would not match it)", async () => {
  fs.rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  const req = (checksum: boolean) => ({ tree, outputs: [{ format: 'tar' as const, path: out('s.tar') }], uncompressed: false, checksum });
  await writeOutputs(new Scope(), req(true));
  expect(files()).toEqual(['s.cdx.json', 's.manifest.json', 's.tar', 's.tar.md5', 's.tar.sha256']);
  await writeOutputs(new Scope(), req(false));
  expect(files()).toEqual(['s.cdx.json', 's.manifest.json', 's.tar']);
});

test('a disk format without a disk is refused before anything runs', async () => {
  await expect(writeOutputs(new Scope(), { tree, outputs: [{ format: 'qcow2', path: out('y.qcow2') }], uncompressed: false, checksum: false })).rejects.toThrow(
    /needs a disk image/,
  );
  expect(fs.existsSync(path.join(dir, 'argv.log'))).toBe(false);
});

describe('writeAtomically', () => {
  test('an interrupted write (scope closed before it finishes) removes the partial file', async () => {
    const dest = path.join(dir, 'atomic.bin');
    const scope = new Scope();
    let release: () => void = () => undefined;
    const pending = writeAtomically(scope, dest, async (tmp) => {
      fs.writeFileSync(tmp, 'half');
      await new Promise<void>((r) => (release = r));
    });
    await new Promise((r) => setImmediate(r));
    expect(fs.existsSync(partialPathFor(dest))).toBe(true);
    await scope.close();
    expect(fs.existsSync(partialPathFor(dest))).toBe(false);
    release();
    await pending.catch(() => undefined);
  });
  test.each([
    ['/o/img.qcow2', 7, '/o/.img.qcow2.kiln-part-7-123'],
    ['rel/x.tar', 12, 'rel/.x.tar.kiln-part-12-123'],
  ])('partialPathFor(%s)', (dest, pid, tmp) => {
    expect(partialPathFor(dest, { pid, start: '123' })).toBe(tmp);
    expect(isPartialName(path.basename(tmp))).toBe(true);
    expect(isPartialName('x.kiln-part-12')).toBe(false);
    expect(isPartialName('bookworm-amd64-abc.kiln-part-12-99.tar.zst')).toBe(true);
  });
  test.each([
    [[{ format: 'qcow2' as const, path: '/o/img.qcow2' }], undefined, '/o/img'],
    [[{ format: 'squashfs' as const, path: '/o/img.squash' }], undefined, '/o/img'],
    [[{ format: 'tar' as const, path: '/o/img' }], undefined, '/o/img'],
    [[], undefined, null],
    [[{ format: 'tar' as const, path: '/o/img.tar' }], '/o/named', '/o/named'],
  ])('manifestBaseOf(%j, %s)', (outputs, manifestBase, expected) => {
    expect(manifestBaseOf(manifestBase === undefined ? { outputs } : { outputs, manifestBase })).toBe(expected);
  });
});
