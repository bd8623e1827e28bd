#!/usr/bin/env node
// bench/pods' pods: deploy/kubernetes/job-matrix.yaml's pod template, as Pods that `podman kube play` (4.3, rootless)
// runs. Each pod runs the template's build script (its `args`, written to DIR/job.sh) once per index it is given,
// in turn, in one container with one emptyDir: JOB_COMPLETION_INDEX=i for each i. Kept as written: the command,
// the securityContext, the env names, the emptyDir work volume. Changed, as test/e2e/image/container.test.ts does
// for the same podman: no hostUsers (podman 4.3 then gives the pod a user namespace too small for the build's
// map), no resources (rootless podman on a cgroup v1 host cannot set limits); and, because podman before 4.7
// ignores `procMount: Unmasked` (its /proc stays masked, and the kernel refuses the fresh /proc the build mounts:
// "mount too revealing"), the host's /proc bound at /run/kiln-host-proc: a fully visible proc mount in the
// container, which is what the kernel asks for before it allows a new one (the pod's user sees no more of the
// host's processes than they do outside it). And for a machine without a
// cluster: the registry Secret and the matrix ConfigMap are hostPath directories (DIR/auth, DIR/matrix), the
// env values point at the bench's registry, and the pods use the host's network (the registry listens on
// 127.0.0.1 only, where kiln speaks plain HTTP). The emptyDir is named after its pod: podman 4.3 makes an emptyDir
// a volume named as the pod's volume is, so two pods playing the same template shared one /work (and each
// build's sweep of stale work directories took the other pod's, whose owner it cannot see, for a dead build's).
//   bench/pods-spec.mjs TEMPLATE DIR REGISTRY_HOST MIRROR IMAGE POD=I,J… [POD=…]   → the pods' YAML on stdout
import fs from 'node:fs';
import YAML from 'yaml';

const [template, dir, registry, mirror, image, ...pods] = process.argv.slice(2);
if (!template || !dir || !registry || !mirror || !image || pods.length === 0 || pods.some((p) => !/^[a-z0-9-]+=[0-9,]+$/.test(p))) {
  process.stderr.write('usage: bench/pods-spec.mjs TEMPLATE DIR REGISTRY_HOST MIRROR IMAGE POD=I,J… [POD=I,J…]\n');
  process.exit(2);
}
const job = YAML.parseAllDocuments(fs.readFileSync(template, 'utf8'))
  .map((d) => d.toJS())
  .find((d) => d && d.kind === 'Job');
const spec = job.spec.template.spec;
const c = spec.containers[0];
fs.writeFileSync(`${dir}/matrix/job.sh`, c.args[0]);
const values = {
  KILN_CACHE_REGISTRY: `${registry}/kiln-cache`,
  KILN_PUBLISH_REPO: `${registry}/images`,
  DIB_DISTRIBUTION_MIRROR: mirror,
};
const docs = pods.map((p) => {
  const [name, list] = p.split('=');
  const env = c.env.map((e) => (e.name in values ? { name: e.name, value: values[e.name] } : e));
  env.push({ name: 'KILN_BENCH_INDICES', value: list.split(',').join(' ') });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: job.spec.template.metadata?.labels },
    spec: {
      ...spec,
      hostUsers: undefined,
      hostNetwork: true,
      containers: [
        {
          ...c,
          image,
          // The template's script, once per index, in turn; the markers time each build.
          args: [
            [
              'for i in $KILN_BENCH_INDICES; do',
              '  echo "kiln-bench: start $i $(date +%s.%N)"',
              '  JOB_COMPLETION_INDEX=$i bash -ceu "$(cat /matrix/job.sh)"',
              '  echo "kiln-bench: end $i $(date +%s.%N)"',
              'done',
            ].join('\n'),
          ],
          env,
          resources: undefined,
          volumeMounts: [...c.volumeMounts.map((m) => (m.name === 'work' ? { ...m, name: `${name}-work` } : m)), { name: 'host-proc', mountPath: '/run/kiln-host-proc' }],
        },
      ],
      volumes: [
        ...spec.volumes.map((v) =>
          v.name === 'auth' ? { name: 'auth', hostPath: { path: `${dir}/auth`, type: 'Directory' } }
          : v.name === 'matrix' ? { name: 'matrix', hostPath: { path: `${dir}/matrix`, type: 'Directory' } }
          : v.name === 'work' ? { ...v, name: `${name}-work` }
          : v,
        ),
        { name: 'host-proc', hostPath: { path: '/proc', type: 'Directory' } },
      ],
    },
  };
});
process.stdout.write(docs.map((d) => YAML.stringify(JSON.parse(JSON.stringify(d)))).join('---\n'));
