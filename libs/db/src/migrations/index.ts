import { InitialSchema1764280000000 } from './1764280000000-initial-schema';

/** In order; never edit a released migration, add a new one. */
export const MIGRATIONS = [InitialSchema1764280000000];
