/** The contract every output-format module implements (see registry.ts). */
import type { Format } from './formats.js';
import type { BuildInfo } from './manifest.js';

export type Qcow2Compression = 'zstd' | 'zlib';

/** What a format module gets: where to read from and the (temporary) file to write. */
export interface FormatInput {
  /** The root tree (tree formats). */
  readonly tree: string;
  /** The raw disk image (disk formats); undefined when the build made no disk. */
  readonly raw: string | undefined;
  /** The temporary file to write; renamed into place by the caller when the commands succeed. */
  readonly dest: string;
  /** -u: skip compression where it is optional (qcow2). */
  readonly uncompressed: boolean;
  /** Compression of qcow2 clusters (when not uncompressed). */
  readonly qcow2Compression: Qcow2Compression;
  /** Tools found on the host that a module may prefer (e.g. pigz over gzip). */
  readonly tools: ReadonlySet<string>;
  /** SOURCE_DATE_EPOCH: no time in the output is later (tar clamps, squashfs' creation time). */
  readonly epoch?: number;
  /** What identifiers a format records are derived from (the tree's fingerprint); absent: the tool's random ones. */
  readonly seed?: string;
  /** The output's final path (dest is renamed to it): for formats that record their own file name. */
  readonly final: string;
  /**
   * A directory for intermediate files (absent until a module makes it), beside the output under a partial
   * name (so a build killed meanwhile leaves it to the next build's sweep); writeFormat removes it when the
   * write ends, fails or is interrupted.
   */
  readonly scratch: string;
  /** What NAME.manifest.json records of the build (formats that carry the build's labels). */
  readonly build?: BuildInfo;
}

/** What a caller of writeFormat gives: writeFormat chooses the scratch directory. */
export type FormatRequest = Omit<FormatInput, 'scratch'>;

/** One command, argv only; run in order through lib/exec. */
export interface Command {
  readonly cmd: string;
  readonly args: readonly string[];
}

export interface FormatWriter {
  readonly format: Format;
  /** Optional tools this module can use when present. */
  readonly prefers?: readonly string[];
  /** The commands that write input.dest. Pure: tests check the argv. */
  commands(input: FormatInput): Command[];
  /**
   * Rewrites what the commands left nondeterministic or wrong in input.dest (times, random ids, names), or
   * makes the final file from what they wrote.
   */
  finish?(input: FormatInput): void | Promise<void>;
}
