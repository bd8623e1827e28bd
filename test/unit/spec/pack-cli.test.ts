/** `kiln pack` / `image-pack` argument handling (the real bin/ shims; no root needed). */
import fs from 'node:fs';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const dir = tempDir('pack-cli');
const good = path.join(dir, 'good.yaml');
const bad = path.join(dir, 'bad.yaml');
fs.writeFileSync(good, 'arguments:\n  flavour:\n    default: a\n    choices: [a, b]\nvalidators:\n  - argument_set: {argument_name: x, value: y}\n');
fs.writeFileSync(bad, 'validators:\n  - pkg: curl\n  - any:\n    - script: nowhere.sh\n');
const image = path.join(dir, 'disk.qcow2');
fs.writeFileSync(image, '');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test.each([
  ['no target', ['pack', good], /name exactly one target/],
  ['two targets', ['pack', '--root', dir, '--ssh', 'h', good], /name exactly one target/],
  ['a bad --arg', ['pack', '--root', dir, '--arg', 'oops', good], /--arg "oops" is not NAME=VALUE/],
  ['a missing spec', ['pack', '--root', dir, path.join(dir, 'none.yaml')], /spec ".*none\.yaml" does not exist/],
  ['a missing root', ['pack', '--root', path.join(dir, 'none'), good], /root tree ".*none" does not exist/],
  ['an unknown argument', ['pack', '--root', dir, '--arg', 'nope=1', good], /unknown argument "nope"/],
  ['a value outside the choices', ['pack', '--root', dir, '--arg', 'flavour=c', good], /must be one of a, b, not "c"/],
  ['--image with a bad --root-filesystem', ['pack', '--image', image, '--root-filesystem', '/dev/sda', good], /--root-filesystem \/dev\/sda: expected a partition such as \/dev\/sda1/],
  ['--image with a bad --min-free', ['pack', '--image', image, '--min-free', 'lots', good], /--min-free: "lots" is not a size/],
  ['--image with an unknown argument', ['pack', '--image', image, '--arg', 'nope=1', good], /unknown argument "nope"/],
  ['--root-filesystem without --image', ['pack', '--root', dir, '--root-filesystem', '1', good], /--root-filesystem only applies to --image/],
  ['--image that does not exist', ['pack', '--image', path.join(dir, 'x.qcow2'), good], /does not exist or is not a file/],
  ['--ssh with a key file that does not exist', ['pack', '--ssh', 'admin@node1:2222', '--ssh-key', path.join(dir, 'nokey'), good], /--ssh-key .*nokey: no such file/],
  ['--known-hosts without --ssh', ['pack', '--root', dir, '--known-hosts', image, good], /--ssh-key and --known-hosts only apply to --ssh/],
  ['--ssh that is not a host', ['pack', '--ssh', 'a b', good], /--ssh "a b" is not \[user@\]host\[:port\]/],
])('%s: exit 2', (_name, args, message) => {
  const r = runBin('kiln', args);
  expect(r.stderr).toMatch(message);
  expect(r.code).toBe(2);
});

test('a bad spec: every problem, one line each with file:line:col and path, exit 2', () => {
  const r = runBin('image-pack', ['--root', dir, bad]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`${bad}: 2 problems`);
  expect(r.stderr).toContain(`${bad}:2:5: validators[0]: unknown validator type "pkg"`);
  expect(r.stderr).toMatch(new RegExp(`${bad.replace(/[.]/g, '\\.')}:4:15: validators\\[1\\]\\.any\\[0\\]\\.script: script "nowhere\\.sh" not found`));
});
