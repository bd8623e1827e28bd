/** kiln's QEMU runner: boot an image (or kernel + initrd), watch the serial console, reach SSH, report. */
export { bootImage, withBootedImage, type BootedVm } from './run.js';
export { chooseAccel, decideAccel, type AccelDecision } from './accel.js';
export { qemuArgv, kernelCommandLine, type QemuPlan } from './argv.js';
export { cleanLine, recognizeLine, type LineEvent } from './console.js';
export { formatReport, reportJson } from './report.js';
export { checkBootOptions, DEFAULT_TIMEOUT_S } from './prepare.js';
export { findSshKey, sshArgv, runSsh, type SshResult } from './ssh.js';
export type * from './types.js';
