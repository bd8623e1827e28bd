/** Boot constants the CLI's option definitions need (choices, defaults), in a module that loads nothing else. */
export const SEED_KINDS = ['config-drive', 'nocloud'] as const;
export type SeedKind = (typeof SEED_KINDS)[number];

export const DEFAULT_TIMEOUT_S = 300;
