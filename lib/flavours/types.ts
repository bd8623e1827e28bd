import type { Where } from './phases.js';

/** One entry of a flavour's `<phase>.d/` directory, as found on disk (before filtering). */
export interface HookFile {
  readonly name: string;
  readonly path: string;
  readonly executable: boolean;
  readonly directory: boolean;
}

/** A flavour as discovered on disk. Plain data: planning is pure over these. */
export interface Flavour {
  readonly name: string;
  readonly dir: string;
  /** The search-path entry it was found in. */
  readonly searchPath: string;
  readonly deps: readonly string[];
  readonly provides: readonly string[];
  /** Phase directory name (e.g. "install.d") → its entries. */
  readonly hooks: Readonly<Record<string, readonly HookFile[]>>;
  /** environment.d files, in the order they are sourced. */
  readonly environment: readonly string[];
  /** install.d/<prefix>-<type>-install/ directories (diskimage-builder's install types) → their entries. */
  readonly installTypeDirs?: Readonly<Record<string, readonly HookFile[]>>;
  /** First line of README.md / README.rst, if any. */
  readonly summary: string | undefined;
  readonly hasReadme: boolean;
  /** Flavours of the same name further down the search path that this one overrides. */
  readonly overrides: readonly string[];
  /** Optional files a flavour may hold. */
  readonly files: Readonly<{
    packageInstalls?: string;
    binaryDeps?: string;
    init?: string;
    imageSpec?: string;
    rootfs?: string;
    /** diskimage-builder's per-element package name map (JSON). */
    pkgMap?: string;
    /** diskimage-builder's service name map (YAML). */
    svcMap?: string;
  }>;
}

export type FlavourIndex = ReadonlyMap<string, Flavour>;

export type Reason =
  | { kind: 'named' }
  | { kind: 'dependency'; of: string }
  | { kind: 'default-os'; provides: string }
  /** ramdisk-image-create's ramdisk element (ramdisk-base, or --ramdisk-element / RAMDISK_ELEMENT). */
  | { kind: 'ramdisk-element' };

export interface Resolved {
  /** Flavours in resolution order (named first, then dependencies breadth-first). */
  readonly flavours: readonly { name: string; reason: Reason }[];
  /** Virtual name → the flavour that provides it. */
  readonly provided: Readonly<Record<string, string>>;
  /** The default operating-system flavour that was added, if one was. */
  readonly defaultOsAdded: string | undefined;
}

export interface PlannedHook {
  readonly name: string;
  readonly flavour: string;
  readonly path: string;
  readonly where: Where;
}

export interface PlannedPhase {
  readonly name: string;
  readonly where: Where;
  /** False when the phase does not apply to this build's outputs (e.g. block-device.d for tar). */
  readonly runs: boolean;
  readonly hooks: readonly PlannedHook[];
}
