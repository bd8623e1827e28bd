/**
 * Runs in every end-to-end file (after test/setup.ts): kiln's image cache (base trees, package archives,
 * step cache) lives in this run's test-results, so every run starts from the same empty state whatever the
 * machine ran before, and the files of one run share one base tree per distribution.
 */
import path from 'node:path';
import { IMAGES } from './helpers/images.js';

process.env.DIB_IMAGE_CACHE ??= path.join(IMAGES, 'home', '.cache', 'image-create');
