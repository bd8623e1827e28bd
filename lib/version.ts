/** kiln's version: package.json's, read once (kiln --version, manifests, SBOMs, Glance's kiln_version). */
import fs from 'node:fs';
import path from 'node:path';

// lib/version.ts runs as dist/lib/version.js: package.json is two directories up.
const file = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'package.json');

export const KILN_VERSION: string = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
