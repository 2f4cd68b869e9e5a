import { InitialSchema1764280000000 } from './1764280000000-initial-schema';
import { PredictionWarnings1765100000000 } from './1765100000000-prediction-warnings';

/** In order; never edit a released migration, add a new one. */
export const MIGRATIONS = [InitialSchema1764280000000, PredictionWarnings1765100000000];
