/**
 * kiln's container image for real: scripts/container-image builds it (with kiln, -t oci); a user the test
 * creates (no sudo, useradd's subordinate range) loads it into rootless podman and runs `kiln build -o /out/x vm`
 * with no --privileged and no --cap-add (only --security-opt unmask=ALL, README: "kiln in a container"), writing
 * a qcow2; the cache the container uses is a directory of the user's seeded with the host's base tree and apt
 * archives, so the container does not run mmdebstrap or download the packages again. Then the pod template of
 * deploy/kubernetes/job.yaml (its securityContext and emptyDir as written; image, command and env replaced, the
 * registry pieces left out) runs under `podman kube play`, the local stand-in for a cluster, and builds an image
 * into its emptyDir. The user, their podman storage and everything else the test makes are removed afterwards.
 * This host's cgroups are hybrid, which crun refuses: podman runs with runc and the cgroupfs manager.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { freeSubidStart, subidRange, SUBID_COUNT } from '../../../lib/namespace/rootless.js';
import { resolveMirrors } from '../../../lib/rootfs/mirror.js';
import { REPO } from '../helpers/kiln.js';
import { tempDir } from '../../helpers/tmp.js';

const USER = 'kilnpodman';
const HOME = `/home/${USER}`;
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PODMAN = ['podman', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
const sh = (cmd: string, args: string[], opts: { cwd?: string } = {}) => spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PATH }, maxBuffer: 1 << 28, ...opts });
const CACHE = path.join(process.env.DIB_IMAGE_CACHE ?? path.join(process.env.HOME ?? '/root', '.cache', 'image-create'), 'kiln');

/** Runs argv as the test's user (runuser: no sudo, no groups but their own), in their home. */
function asUser(argv: string[]) {
  const t0 = Date.now();
  const r = spawnSync('runuser', ['-u', USER, '--', ...argv], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    cwd: HOME,
    env: { PATH, HOME, USER, LOGNAME: USER, XDG_RUNTIME_DIR: path.join(HOME, 'run') },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, seconds: (Date.now() - t0) / 1000 };
}

function removeUser(): void {
  // The user's podman leaves a pause process: ended by its id before the user goes.
  const pids = () => sh('pgrep', ['-u', USER]).stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  for (let i = 0; i < 50 && pids().length > 0; i++) {
    for (const pid of pids()) sh('kill', ['-9', pid]);
    spawnSync('sleep', ['0.1']);
  }
  // podman's per-user files outside the home (/tmp/containers-user-UID, /tmp/podman-run-UID,
  // /dev/shm/libpod_rootless_lock_UID) go with the user: a later test user given the same uid must find none.
  if (sh('id', ['-u', USER]).status === 0) sh('find', ['/tmp', '/var/tmp', '/dev/shm', '-xdev', '-mindepth', '1', '-maxdepth', '1', '-user', USER, '-exec', 'rm', '-rf', '{}', '+']);
  sh('userdel', ['-r', USER]);
}

const work = tempDir('container-image');
const image = path.join(work, 'kiln.oci.tar');
const timings: Record<string, number> = {};

beforeAll(() => {
  removeUser();
  expect(sh('useradd', ['-m', '-s', '/bin/sh', USER]).stderr).toBe('');
  const subuid = () => fs.readFileSync('/etc/subuid', 'utf8');
  const uid = Number(sh('id', ['-u', USER]).stdout.trim());
  if (!subidRange(subuid(), USER, uid)) {
    const start = freeSubidStart(subuid(), fs.readFileSync('/etc/subgid', 'utf8'));
    expect(sh('usermod', ['--add-subuids', `${start}-${start + SUBID_COUNT - 1}`, '--add-subgids', `${start}-${start + SUBID_COUNT - 1}`, USER]).status).toBe(0);
  }
  fs.mkdirSync(path.join(HOME, 'run'), { mode: 0o700 });
  fs.mkdirSync(path.join(HOME, 'out'));
  sh('chown', ['-R', `${USER}:${USER}`, path.join(HOME, 'run'), path.join(HOME, 'out')]);
});

afterAll(() => {
  removeUser();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('kiln in rootless podman', () => {
  it('scripts/container-image builds the image: entrypoint kiln, labels', () => {
    const t0 = Date.now();
    const r = sh(path.join(REPO, 'scripts/container-image'), ['-o', image]);
    timings.image = (Date.now() - t0) / 1000;
    expect(r.stderr.slice(-2000)).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const config = JSON.parse(sh('skopeo', ['inspect', '--config', `oci-archive:${image}`]).stdout) as { config: Record<string, unknown> };
    expect(config.config.Entrypoint).toEqual(['kiln']);
    expect(config.config.User).toBe('1000:1000');
    expect((config.config.Labels as Record<string, string>)['kiln.flavours']).toBe('debian-minimal kiln-container');
    fs.copyFileSync(image, path.join(HOME, 'kiln.oci.tar'));
    sh('chown', [`${USER}:${USER}`, path.join(HOME, 'kiln.oci.tar')]);
    const load = asUser([...PODMAN, 'load', '-q', '-i', 'kiln.oci.tar']);
    expect(load.out).toMatch(/localhost\/kiln:latest/);
    // A non-root user, whose newuidmap/newgidmap map through file capabilities (not setuid).
    const who = asUser([...PODMAN, 'run', '--rm', '--entrypoint', '/bin/sh', 'localhost/kiln:latest', '-c', 'id; getcap /usr/bin/newuidmap; ls -l /usr/bin/newuidmap']);
    expect(who.out).toMatch(/uid=1000\(kiln\) gid=1000\(kiln\)/);
    expect(who.out).toMatch(/newuidmap cap_setuid=ep/);
    expect(who.out).toMatch(/-rwxr-xr-x .*newuidmap/);
  }, 600_000);

  it('podman run, no --privileged, no --cap-add: kiln build -o /out/x vm writes a qcow2', () => {
    // The container's cache: the host's base trees and apt archives, given to the user (the container's kiln:
    // --userns keep-id makes the user's own files kiln's, so /out and the cache are writable there).
    const cache = path.join(HOME, 'cache/kiln');
    fs.mkdirSync(cache, { recursive: true });
    for (const d of ['base', 'apt-archives']) if (fs.existsSync(path.join(CACHE, d))) expect(sh('cp', ['-a', path.join(CACHE, d), cache]).status).toBe(0);
    sh('chown', ['-R', `${USER}:${USER}`, path.join(HOME, 'cache')]);
    const mirror = resolveMirrors(undefined, {}).mirror ?? '';
    const r = asUser([
      ...PODMAN, 'run', '--rm', '--security-opt', 'unmask=ALL', '--userns', 'keep-id:uid=1000,gid=1000',
      '-v', `${HOME}/out:/out`, '-v', `${HOME}/cache:/home/kiln/.cache/image-create`,
      '-e', `DIB_DISTRIBUTION_MIRROR=${mirror}`,
      'localhost/kiln:latest', 'build', '-o', '/out/x', 'vm',
    ]);
    timings.run = r.seconds;
    expect(r.out.slice(-3000)).toMatch(/kiln: done in/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/base tree cache hit/);
    const info = JSON.parse(sh('qemu-img', ['info', '--output=json', path.join(HOME, 'out/x.qcow2')]).stdout) as { format: string };
    expect(info.format).toBe('qcow2');
    expect(fs.statSync(path.join(HOME, 'out/x.qcow2')).uid).toBe(Number(sh('id', ['-u', USER]).stdout.trim()));
  }, 600_000);

  it("podman kube play of the Job's pod template builds into its emptyDir", () => {
    const job = YAML.parse(fs.readFileSync(path.join(REPO, 'deploy/kubernetes/job.yaml'), 'utf8')) as { spec: { template: { spec: Record<string, unknown> } } };
    const spec = job.spec.template.spec as { containers: Record<string, unknown>[]; volumes: { name: string }[] };
    const c = spec.containers[0] as Record<string, unknown> & { volumeMounts: { name: string }[] };
    const pod: Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'kiln-job' },
      spec: {
        ...spec,
        // podman 4.3 gives a pod with hostUsers: false a user namespace of 1024 ids, too few for the build's map (kiln:
        // exit 2); rootless podman's pod is in the user's namespace already, which is what the setting asks.
        hostUsers: undefined,
        containers: [
          {
            ...c,
            image: 'localhost/kiln:latest',
            // The Job's script with a build this test can afford (no registry, no mirror download).
            args: ['mkdir -p /work/out /work/tmp /work/cache\nkiln build -o /work/out/bb -t tar,squashfs busybox\nls /work/out'],
            env: [{ name: 'TMPDIR', value: '/work/tmp' }, { name: 'XDG_CACHE_HOME', value: '/work/cache' }],
            volumeMounts: c.volumeMounts.filter((m) => m.name === 'work'),
            // Rootless podman on cgroup v1 (this host) cannot set limits (runc: "cannot set memory limit"); a cluster does.
            resources: undefined,
          },
        ],
        volumes: spec.volumes.filter((v) => v.name === 'work'),
      },
    };
    const file = path.join(HOME, 'pod.yaml');
    fs.writeFileSync(file, YAML.stringify(JSON.parse(JSON.stringify(pod))));
    const play = asUser([...PODMAN, 'kube', 'play', file]);
    expect(play.code).toBe(0);
    let state = '';
    for (let i = 0; i < 120 && !/exited/i.test(state); i++) {
      spawnSync('sleep', ['1']);
      state = asUser([...PODMAN, 'ps', '-a', '--filter', 'name=kiln-job-kiln', '--format', '{{.Status}}']).out;
    }
    const logs = asUser([...PODMAN, 'logs', 'kiln-job-kiln']).out;
    timings.kube = play.seconds;
    expect(logs).toMatch(/bb\.tar/);
    expect(logs).toMatch(/bb\.squash\b/);
    expect(state).toMatch(/Exited \(0\)/);
    expect(asUser([...PODMAN, 'kube', 'down', file]).code).toBe(0);
    console.log(`container.test: image ${timings.image} s, podman run vm ${timings.run} s`);
  }, 300_000);
});
