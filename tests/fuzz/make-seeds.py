#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write the seed corpora of tests/fuzz/corpus from tests/data and a few
hand-made cases.  Run it again after changing the shipped data:
    tests/fuzz/make-seeds.py            (rewrites corpus/*/seed-*)
Inputs the fuzzers found (crash-*, regression-*) are kept as they are."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data')
CORPUS = os.path.join(HERE, 'corpus')
SEP = '\n%%\n'


def read(*path):
    with open(os.path.join(DATA, *path)) as f:
        return f.read()


def write(target, name, text):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'w') as f:
        f.write(text)


def clear():
    for target in os.listdir(CORPUS) if os.path.isdir(CORPUS) else []:
        for n in os.listdir(os.path.join(CORPUS, target)):
            if n.startswith('seed-'):
                os.unlink(os.path.join(CORPUS, target, n))


ANNOTATIONS = {
    'rxe0': {'io.crdma.devices': 'rxe0'},
    'all-limits': {'io.crdma.devices': 'all', 'io.crdma.hca-handles': '4',
                   'io.crdma.hca-objects': 'max', 'io.crdma.memlock': '64G'},
    'list-exclusive': {'io.crdma.devices': 'mlx5_0,mlx5_1', 'io.crdma.netns': 'exclusive',
                       'io.crdma.rdma-cm': 'false', 'io.crdma.umad': 'true',
                       'io.crdma.raw': 'true', 'io.crdma.memlock': 'unlimited'},
    'others': {'org.opencontainers.image.title': 'x', 'io.kubernetes.pod': 'p'},
    'typo': {'io.crdma.devices': 'rxe0', 'io.crdma.hca-handle': '4'},
    'no-devices': {'io.crdma.memlock': '1G'},
    'bad-values': {'io.crdma.devices': 'rxe0,,..', 'io.crdma.hca-handles': '0x10',
                   'io.crdma.memlock': '18446744073709551616'},
}


def annotations():
    for name, ann in ANNOTATIONS.items():
        write('annotations', name + '.json', json.dumps(ann))
    write('annotations', 'not-string.json', '{"io.crdma.devices": ["rxe0"], "a": 1}')
    write('annotations', 'duplicate.json',
          '{"io.crdma.devices": "rxe0", "io.crdma.devices": "rxe1"}')
    write('annotations', 'escapes.json',
          '{"io.crdma.devices": "rxe\\u0000", "io.crdma.netns": "\\u00e9\\n"}')


def policy():
    write('policy', 'shipped.json', open(os.path.join(HERE, '..', '..', 'data', 'policy.json')).read())
    cases = {
        'minimal.json': {'version': 1},
        'globs.json': {'version': 1, 'devices': ['mlx5_[0-3]', 'rxe0', '?b*'],
                       'limits': {'enforce': 'best-effort'}},
        'limits.json': {'version': 1, 'defaults': {'hcaHandles': 8, 'hcaObjects': 'max',
                                                   'memlock': 1048576},
                        'limits': {'hcaHandles': 'max', 'hcaObjects': 'max', 'memlock': '1T',
                                   'enforce': 'strict'},
                        'allow': {'umad': True, 'issm': True, 'netRaw': True, 'ipcLock': True,
                                  'exclusive': False},
                        'netnsMode': 'exclusive'},
        'defaults-above.json': {'version': 1, 'defaults': {'hcaHandles': 8},
                                'limits': {'hcaHandles': 4}},
    }
    for name, p in cases.items():
        write('policy', name, json.dumps(p))
    write('policy', 'twice.json', '{"version":1,"limits":{"hcaHandles":1,"hcaHandles":2}}')
    write('policy', 'comments.json', '/* c */ {"version": 1, // x\n "devices": []}')
    write('policy', 'numbers.json', '{"version":1.0,"limits":{"memlock":18446744073709551615}}')


def state_doc(status, pid, ann=None, extra=None):
    s = {'ociVersion': '1.0.2', 'id': 'c1', 'status': status, 'bundle': '@BUNDLE@'}
    if pid is not None:
        s['pid'] = pid
    if ann is not None:
        s['annotations'] = ann
    s.update(extra or {})
    return json.dumps(s)


def annotated(config_text, ann):
    c = json.loads(config_text)
    c['annotations'] = ann
    return json.dumps(c, indent='\t')


def state():
    runc = read('oci', 'runc-spec.json')
    crun = read('oci', 'crun-spec.json')
    podman = read('oci', 'podman-precreate.json')
    write('state', 'runc-created.json',
          state_doc('created', 4242, ANNOTATIONS['rxe0']) + SEP + annotated(runc, ANNOTATIONS['rxe0']))
    write('state', 'crun-poststop.json', state_doc('stopped', 0) + SEP + crun)
    write('state', 'podman-runc-creating.json',
          state_doc('creating', 77) + SEP + annotated(podman, ANNOTATIONS['list-exclusive']))
    write('state', 'no-config.json', state_doc('created', 1, ANNOTATIONS['typo']))
    write('state', 'relative-bundle.json',
          '{"id":"x","bundle":"relative","pid":1}' + SEP + runc)
    seccomp = json.loads(crun)
    seccomp['annotations'] = ANNOTATIONS['all-limits']
    seccomp.setdefault('linux', {})['seccomp'] = {
        'defaultAction': 'SCMP_ACT_ERRNO',
        'syscalls': [{'names': ['mbind', 'set_mempolicy'], 'action': 'SCMP_ACT_ALLOW'},
                     {'names': ['socket'], 'action': 'SCMP_ACT_ALLOW',
                      'args': [{'index': 0, 'value': 16, 'op': 'SCMP_CMP_EQ'}]}]}
    seccomp['process']['rlimits'] = [{'type': 'RLIMIT_MEMLOCK', 'soft': 18446744073709551615,
                                      'hard': 18446744073709551615}]
    seccomp['process']['capabilities'] = {'effective': ['CAP_NET_RAW', 'CAP_IPC_LOCK']}
    seccomp['linux']['namespaces'] = [{'type': 'network', 'path': '/run/netns/x'}]
    write('state', 'seccomp-rlimits.json', state_doc('created', 9) + SEP + json.dumps(seccomp))
    # A key given twice: refused for a container that asks, in either copy.
    write('state', 'duplicate-root.json',
          state_doc('created', 5, ANNOTATIONS['rxe0']) + SEP +
          '{"root":{"path":"rootfs"},"root":{"path":"/other"},"annotations":{},'
          '"annotations":{"io.crdma.devices":"rxe0"}}')
    write('state', 'duplicate-pid.json',
          '{"id":"d","pid":5,"pid":6,"bundle":"@BUNDLE@","annotations":{"a":"1","a":"2"}}' + SEP +
          '{"root":{"path":"rootfs"}}')


def config():
    sets = [
        'io.crdma.devices=rxe0\n',
        'io.crdma.devices=all\nio.crdma.umad=true\nio.crdma.raw=true\nio.crdma.memlock=1G\n',
        'io.crdma.devices=mlx5_1,mlx5_2\nio.crdma.netns=exclusive\nio.crdma.hca-handles=2\n',
        'io.crdma.devices=mlx5_4\nio.crdma.rdma-cm=false\n',
    ]
    # Edit options (fuzz-config.c): which runtime, cgroup v2, rdma controller, a hook.
    options = ['', '@runtime=runc\n', '@runtime=crun\n@cgroup2\n@rdma\n', '@hook\n@cgroup2\n']
    names = sorted(n for n in os.listdir(os.path.join(DATA, 'oci')) if n.endswith('.json'))
    for i, n in enumerate(names):
        write('config', n, read('oci', n) + SEP + sets[i % len(sets)] + options[i % len(options)])
    write('config', 'conflict.json',
          '{"process":{"rlimits":[{"type":"RLIMIT_MEMLOCK","soft":1,"hard":2}]},'
          '"linux":{"devices":[{"path":"/dev/infiniband/uverbs0","type":"c","major":1,"minor":3}],'
          '"resources":{"devices":[{"allow":false,"access":"rwm"},'
          '{"allow":true,"type":"c","major":231,"access":"r"}]}}}' + SEP + sets[0])
    write('config', 'empty-object.json', '{}' + SEP + sets[1] + options[3])
    # A key given twice: kept and written back unless crdma acts on the config.
    write('config', 'duplicate.json',
          '{"process":{"env":[]},"linux":{"devices":[]},"linux":{"resources":{}},'
          '"annotations":{"org.example":"1"},"annotations":{"io.crdma.devices":"rxe0"}}'
          + SEP + sets[0] + options[1])
    write('config', 'exclusive-crun.json', read('oci', 'crun-spec.json') + SEP + sets[2] + options[2])
    # Annotated configs: what crdma_config_edit (edit, precreate) acts on.
    write('config', 'annotated-runc.json',
          annotated(read('oci', 'runc-spec.json'), ANNOTATIONS['all-limits']) + SEP + options[1])
    write('config', 'annotated-podman.json',
          json.dumps(dict(json.loads(read('oci', 'podman-precreate.json')),
                          annotations=ANNOTATIONS['list-exclusive']), separators=(',', ':'))
          + SEP + options[3])
    write('config', 'annotated-crun.json',
          annotated(read('oci', 'crun-spec.json'), ANNOTATIONS['rxe0']) + SEP + options[2])
    write('config', 'annotated-typo.json',
          annotated(read('oci', 'crun-spec.json'), ANNOTATIONS['typo']))


# sysfs: only what crdma_devices_scan reads, so a seed stays a few KiB.
SYSFS_FILES = {'node_type', 'node_guid', 'parent', 'link_layer', 'state', 'dev', 'ibdev',
               'port', 'dev_port', 'dev_id', 'abi_version'}


def sysfs_entries(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        for n in sorted(dirnames + filenames):
            path = os.path.join(dirpath, n)
            r = os.path.normpath(os.path.join(rel, n))
            if os.path.islink(path):
                out.append('@l %s %s\n' % (r, os.readlink(path)))
            elif os.path.isfile(path):
                parts = r.split('/')
                wanted = (n in SYSFS_FILES or (len(parts) >= 2 and parts[-2] == 'gids' and n in ('0', '1'))
                          or r.endswith('gid_attrs/ndevs/0') or r.endswith('.keep'))
                if wanted:
                    with open(path) as f:
                        out.append('@f %s\n%s' % (r, f.read()))
            elif os.path.isdir(path) and not os.listdir(path):
                out.append('@d %s\n' % r)
    return ''.join(out)


def sysfs():
    trees = os.path.join(DATA, 'sysfs')
    for n in sorted(os.listdir(trees)):
        if os.path.isdir(os.path.join(trees, n)):
            write('sysfs', n + '.txt', sysfs_entries(os.path.join(trees, n)))


def main():
    clear()
    annotations()
    policy()
    state()
    config()
    sysfs()
    return 0


if __name__ == '__main__':
    sys.exit(main())
