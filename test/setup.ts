/** Runs in every test file (jest setupFilesAfterEnv): what a test file made in TMPDIR goes with it. */
import { removeTempDirs } from './helpers/tmp.js';

afterAll(() => removeTempDirs());
