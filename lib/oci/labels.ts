/**
 * An image's labels (config Labels, and the manifest's annotations) from the build's NAME.manifest.json:
 * the OCI pre-defined keys where one fits (org.opencontainers.image.title, created, description, version),
 * kiln's own under `kiln.` (the build id, flavours, kiln's version, the system, architecture and disk layout,
 * and the manifest's digest, as Glance's kiln_* properties). Pure.
 */
import type { ManifestFacts } from '../output/manifest.js';
import { rfc3339 } from './image.js';

export interface LabelOptions {
  /** The image's name (org.opencontainers.image.title). */
  readonly title: string;
  /** SOURCE_DATE_EPOCH (org.opencontainers.image.created). */
  readonly epoch: number;
  /** sha256 (hex) of NAME.manifest.json's bytes, when the labels come from that file. */
  readonly manifestSha256?: string;
}

export function imageLabels(facts: ManifestFacts | undefined, o: LabelOptions): Record<string, string> {
  const labels: Record<string, string> = {
    'org.opencontainers.image.title': o.title,
    'org.opencontainers.image.created': rfc3339(o.epoch),
  };
  const os = facts?.os;
  const build = facts?.build;
  if (os?.prettyName) labels['org.opencontainers.image.description'] = os.prettyName;
  if (os?.versionId) labels['org.opencontainers.image.version'] = os.versionId;
  if (os?.id) labels['kiln.os'] = os.id;
  if (build?.id) labels['kiln.build.id'] = build.id;
  if (build?.flavours && build.flavours.length > 0) labels['kiln.flavours'] = build.flavours.join(' ');
  if (build?.kiln) labels['kiln.version'] = build.kiln;
  if (build?.arch) labels['kiln.arch'] = build.arch;
  if (build?.layout) labels['kiln.layout'] = build.layout;
  if (o.manifestSha256) labels['kiln.manifest.sha256'] = o.manifestSha256;
  return labels;
}
