import type { BuildConfig } from '../config/config.js';
import { invalid } from '../errors/index.js';
import type { BuildPlan } from '../plan/build-plan.js';

export async function runBuild(_config: BuildConfig, _plan: BuildPlan): Promise<void> {
  throw invalid('building is not available in this version of kiln yet');
}
