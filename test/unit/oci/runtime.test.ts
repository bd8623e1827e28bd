/**
 * lib/oci/runtime.ts: a tree's /etc/kiln/oci-config.json parsed into the image config's runtime fields, every
 * bad key or type named; imageConfigJson writes them in its fixed order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../helpers/tmp.js';
import { imageConfigJson } from '../../../lib/oci/image.js';
import { parseRuntimeConfig, readRuntimeConfig } from '../../../lib/oci/runtime.js';

describe('parseRuntimeConfig', () => {
  it('reads every key', () => {
    const text = JSON.stringify({ User: 'kiln', Entrypoint: ['kiln'], Cmd: ['--help'], WorkingDir: '/work', Env: ['A=1'], Labels: { x: 'y' } });
    expect(parseRuntimeConfig(text)).toEqual({ user: 'kiln', entrypoint: ['kiln'], cmd: ['--help'], workingDir: '/work', env: ['A=1'], labels: { x: 'y' } });
    expect(parseRuntimeConfig('{}')).toEqual({});
  });

  it.each([
    ['not json', /not JSON/],
    ['[]', /not a JSON object/],
    ['{"Entrypiont":["kiln"]}', /unknown key "Entrypiont"/],
    ['{"User":1000}', /User: a non-empty string/],
    ['{"Cmd":"kiln"}', /Cmd: an array of strings/],
    ['{"Labels":{"a":1}}', /Labels: an object of strings/],
  ])('%s is refused', (text, message) => {
    expect(() => parseRuntimeConfig(text)).toThrow(message);
  });

  it('reads the file in the tree; none: undefined', () => {
    const tree = tempDir('oci-runtime');
    expect(readRuntimeConfig(tree)).toBeUndefined();
    fs.mkdirSync(path.join(tree, 'etc/kiln'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'etc/kiln/oci-config.json'), '{"User":"1000:1000"}');
    expect(readRuntimeConfig(tree)).toEqual({ user: '1000:1000' });
  });
});

describe('imageConfigJson with runtime fields', () => {
  it('writes User, Env, Entrypoint, Cmd, WorkingDir, Labels in that order', () => {
    const json = imageConfigJson({
      platform: { architecture: 'amd64', os: 'linux' },
      created: '2020-01-01T00:00:00Z',
      diffIds: ['sha256:00'],
      createdBy: 'test',
      user: 'kiln',
      env: ['PATH=/bin'],
      entrypoint: ['kiln'],
      cmd: ['--help'],
      workingDir: '/work',
      labels: { a: 'b' },
    });
    expect(Object.keys((JSON.parse(json) as { config: object }).config)).toEqual(['User', 'Env', 'Entrypoint', 'Cmd', 'WorkingDir', 'Labels']);
  });
});
