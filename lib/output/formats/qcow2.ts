/**
 * qcow2, compressed unless -u. Compression defaults to zstd: measured on a 946 MiB Debian disk here,
 * zstd took 6-9 s for 254 MB where zlib took 36-40 s for 262 MB.
 * zstd needs QEMU >= 5.1 (2020) to open the image; pass qcow2Compression 'zlib' for older hosts.
 * Clusters are written in order (no -W): qcow2 places each cluster where the file ends when it is written,
 * so out-of-order writes give a different file every time (reproducible outputs, lib/output/epoch.ts).
 * In order, qemu-img compresses one cluster at a time; compressed images use 256 KiB clusters, which made
 * that as fast as 64 KiB clusters compressed in parallel and the file 6% smaller (926 MiB Debian disk here:
 * 64 KiB in order 4.7 s, 64 KiB with -W 3.6 s, 256 KiB in order 3.4 s and 231 MB).
 */
import type { FormatWriter, Qcow2Compression } from '../types.js';
import { rawSource } from './disk-source.js';

/** Cluster size of compressed qcow2 outputs (see above). */
export const COMPRESSED_CLUSTER = 256 * 1024;

export const QCOW2_COMPRESSIONS: readonly Qcow2Compression[] = ['zstd', 'zlib'];

export const qcow2: FormatWriter = {
  format: 'qcow2',
  commands: (input) => [
    {
      cmd: 'qemu-img',
      args: [
        'convert', '-f', 'raw', '-O', 'qcow2',
        ...(input.uncompressed ? ['-o', 'compat=1.1'] : ['-c', '-o', `compat=1.1,compression_type=${input.qcow2Compression},cluster_size=${COMPRESSED_CLUSTER}`]),
        '-m', '16',
        rawSource(input, 'qcow2'), input.dest,
      ],
    },
  ],
};
