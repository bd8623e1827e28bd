import { parsePrintUris } from '../../../lib/build/packages.js';

test("apt-get --print-uris: what an offline build would have to download, named by package and file", () => {
  const text = [
    "'http://deb.example/debian/pool/main/l/less/less_590-2.1_amd64.deb' less_590-2.1_amd64.deb 131232 SHA256:0f1e",
    "'http://deb.example/debian/pool/main/libs/libfoo1_1.2-3_amd64.deb' libfoo1_1.2-3_amd64.deb 2048 SHA256:aa",
    'Reading package lists...',
    '',
  ].join('\n');
  expect(parsePrintUris(text)).toEqual(['less (less_590-2.1_amd64.deb)', 'libfoo1 (libfoo1_1.2-3_amd64.deb)']);
  expect(parsePrintUris('')).toEqual([]);
});
