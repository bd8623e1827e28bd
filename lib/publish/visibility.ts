/** Glance's image visibilities: the choices of --visibility, in a module that loads nothing else. */
export const VISIBILITIES = ['private', 'shared', 'community', 'public'] as const;
export type Visibility = (typeof VISIBILITIES)[number];
