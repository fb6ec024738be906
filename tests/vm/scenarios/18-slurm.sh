#!/usr/bin/env bash
# 18-slurm: spank_crdma under Debian's Slurm 22.05 (munge, slurmctld and slurmd on this one
# node, cgroup/v2 without systemd, proctrack/cgroup), jobs run as an unprivileged user:
#  - srun --rdma=devices=rxe0,hca-handles=1,memlock=1G: the step's cgroup has rdma.max, a
#    second ibv_open_device fails with EAGAIN, `ulimit -l` in the task is what was asked
#    (Slurm's own limit propagation would reset it to the submit shell's);
#  - a job without --rdma is unchanged: no rdma.max limit, the submit shell's `ulimit -l`;
#  - refusals: a bad value fails srun before submission, a request over the node's policy
#    fails the step with crdma's line on srun's stderr and runs nothing;
#  - the same under sbatch;
#  - two steps of one job, ib_write_bw server on rxe0 and client on rxe1, each under its limit;
#  - srun --container with rootless runc and rootless crun (oci.conf as Slurm documents it):
#    the plugin edits the config.json slurmstepd wrote, the container sees exactly the nodes
#    asked for (bind mounts of the host's), ibv_devinfo works, and the step's limits hold;
#  - crdma-hook status shows a running step holding rxe0, as its cgroup files do;
#  - charliecloud's ch-run, an unprivileged container runtime, inside a job step: the step's
#    rdma.max, memlock and device gating hold in the container;
#  - ConstrainDevices=yes (with a GRES, gpu on /dev/full, so Slurm attaches device programs of
#    its own): a step with --rdma=devices=rxe0 opens rxe0 and not rxe1, Slurm still denies the
#    GRES file it did not allocate and allows it with --gres; a step without --rdma opens both.
# vm-timeout: 420
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_cmd slurmctld slurmd srun sbatch munged
plugin=$CRDMA_BUILD_DIR/slurm/spank_crdma.so
[[ -f $plugin ]] || skip "spank_crdma.so not built: $plugin (install libslurm-dev and build)"
tool=$CRDMA_VM_TOOLS/crdma-vm-open
[[ -x $tool ]] || fail "crdma-vm-open not found at $tool"

# Everything the jobs run or write is in $WORK, readable by the job user.
user=crdmajob
id "$user" >/dev/null 2>&1 || useradd --no-create-home --home-dir "$WORK" --shell /bin/bash "$user"
chmod 755 "$WORK"
install -m 755 "$tool" "$WORK/crdma-vm-open"
install -d -m 1777 "$WORK/out"

policy=$WORK/policy.json
cat >"$policy" <<'JSON'
{"version": 1, "devices": ["rxe*"],
 "defaults": {"hcaHandles": 4},
 "limits": {"hcaHandles": 8, "memlock": "4G"}}
JSON

# ------------------------------------------------------------------ munge, slurmctld, slurmd
step "munge, slurmctld and slurmd on $(hostname)"
# The guest has no resolver: munge, slurmctld and slurmd look the node's name up, with
# AI_ADDRCONFIG, which finds IPv4 names only once a non-loopback IPv4 address exists.
veth_ips
getent hosts "$(hostname)" >/dev/null || echo "$VETH0_IP $(hostname)" >>/etc/hosts
note "$(hostname) is $(getent ahostsv4 "$(hostname)" | head -1)"
install -d -o munge -g munge -m 700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 755 /run/munge
dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
runuser -u munge -- /usr/sbin/munged
until_ok 20 munge -n >/dev/null

S=$WORK/slurm L=$CRDMA_ARTIFACTS/slurm
install -d "$S" "$S/ctld" "$S/slurmd" "$L"
export SLURM_CONF=$S/slurm.conf
node=$(slurmd -C | sed -n 's/^\(NodeName=[^ ]* CPUs=[0-9]*\).*/\1/p')
[[ -n $node ]] || fail "slurmd -C printed no NodeName line"
cat >"$S/slurm.conf" <<EOF
ClusterName=crdmavm
SlurmctldHost=$(hostname)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
StateSaveLocation=$S/ctld
SlurmdSpoolDir=$S/slurmd
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$L/slurmctld.log
SlurmdLogFile=$L/slurmd.log
SlurmdDebug=verbose
PlugStackConfig=$S/plugstack.conf
GresTypes=gpu
$node Gres=gpu:1 State=UNKNOWN
PartitionName=vm Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
cat >"$S/cgroup.conf" <<'EOF'
CgroupPlugin=cgroup/v2
IgnoreSystemd=yes
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=yes
EOF
# A GRES whose file nobody needs: Slurm's device programs then deny it to jobs without --gres.
echo "Name=gpu File=/dev/full" >"$S/gres.conf"
echo "required $plugin policy=$policy" >"$S/plugstack.conf"
note "plugstack.conf: $(cat "$S/plugstack.conf")"

slurm_cleanup() {
	scancel --user="$user" >/dev/null 2>&1 || true
	pkill -x slurmd >/dev/null 2>&1 || true
	pkill -x slurmctld >/dev/null 2>&1 || true
	pkill -x munged >/dev/null 2>&1 || true
	lib_cleanup
}
trap slurm_cleanup EXIT

# systemd would have made system.slice; Slurm's cgroup/v2 (IgnoreSystemd) puts
# NODE_slurmstepd.scope in it.
mkdir -p /sys/fs/cgroup/system.slice
slurm_logs() { tail -n 15 "$L/slurmctld.log" "$L/slurmd.log" 2>&1 | sed 's/^/   | /'; }
slurmctld || { slurm_logs; fail "slurmctld did not start"; }
slurmd || { slurm_logs; fail "slurmd did not start"; }
node_idle() { [[ $(sinfo -h -o %t) == idle ]]; }
end=$((SECONDS + 90))
until node_idle; do
	((SECONDS < end)) || { sinfo; slurm_logs; fail "the node never became idle in 90 s"; }
	sleep 1
done
ok "slurm up: $(sinfo -h -o '%P %t %N %c')"

# as_user CMD...: CMD as the job user, from $WORK, with this file's SLURM_CONF
as_user() { runuser -u "$user" -- env SLURM_CONF="$SLURM_CONF" HOME="$WORK" USER="$user" bash -c 'cd "$HOME" && "$@"' as_user "$@"; }
# The task's report: its cgroup, the step cgroup's rdma.max line for rxe0, ulimit -l, two opens.
report='cg=$(sed -n "s/^0:://p" /proc/self/cgroup); stepcg=/sys/fs/cgroup${cg%/user/*};
	echo "cgroup $cg";
	if [ -f $stepcg/rdma.max ]; then echo "rdma.max $(grep "^rxe0 " $stepcg/rdma.max)"; else echo "rdma.max none"; fi;
	echo "memlock $(ulimit -l)"; ./crdma-vm-open -d rxe0 -n 2; echo "open exit $?"'

# ------------------------------------------------------------------ srun
step "srun --rdma=devices=rxe0,hca-handles=1,memlock=1G"
capture as_user srun --rdma=devices=rxe0,hca-handles=1,memlock=1G bash -c "$report"
show
assert_match "$OUT" 'cgroup /system\.slice/([^/]+_)?slurmstepd\.scope/job_[0-9]+/step_0/user/task_' "the task's cgroup"
assert_contains "$OUT" 'rdma.max rxe0 hca_handle=1 hca_object=65536' "the step's rdma.max"
assert_contains "$OUT" 'memlock 1048576' "ulimit -l (KiB) is the 1G asked"
assert_contains "$OUT" 'opened=1 errno=11 (EAGAIN)' "the second ibv_open_device is over hca-handles=1"
ok "srun: rdma.max, EAGAIN past the limit, memlock as asked"

step "srun --rdma=devices=rxe0: the policy's default hcaHandles (4)"
capture as_user srun --rdma=devices=rxe0 bash -c "$report"
show
assert_contains "$OUT" 'rdma.max rxe0 hca_handle=4 hca_object=65536' "the policy's defaults (hcaHandles 4, the built-in hcaObjects 65536)"

step "srun without --rdma: not touched"
shell_memlock=$(as_user bash -c 'ulimit -l')
capture as_user srun bash -c "$report"
show
assert_match "$OUT" 'rdma\.max (none|rxe0 hca_handle=max hca_object=max)' "no rdma limit"
assert_contains "$OUT" "memlock $shell_memlock" "the submit shell's ulimit -l ($shell_memlock)"
assert_contains "$OUT" 'opened=2 errno=0' "both opens succeed"
ok "a job without --rdma is as before"

step "refusals"
capture as_user srun --rdma=devices=rxe0,hca-handles=lots touch "$WORK/out/ran-bad-value"
show
assert_eq 1 "$((RC != 0))" "srun fails on a bad value"
assert_contains "$OUT" 'crdma: --rdma hca-handles="lots": must be an integer' "the line names the option"
[[ ! -e $WORK/out/ran-bad-value ]] || fail "the step with a bad --rdma value ran"
capture as_user srun --rdma=devices=rxe0,hca-handles=100 touch "$WORK/out/ran-over-policy"
show
assert_eq 1 "$((RC != 0))" "srun fails on a request over the policy"
assert_contains "$OUT" 'crdma: --rdma hca-handles="100": above the limit 8 of' "crdma's line on srun's stderr names the request"
[[ ! -e $WORK/out/ran-over-policy ]] || fail "the refused step ran"
capture as_user srun --rdma=devices=rxe0,umad=true touch "$WORK/out/ran-umad"
show
assert_eq 1 "$((RC != 0))" "srun fails on umad under a policy without allow.umad"
assert_contains "$OUT" 'crdma: --rdma umad="true": not allowed by' "the umad refusal"
[[ ! -e $WORK/out/ran-umad ]] || fail "the refused umad step ran"
ok "refused steps fail with crdma's line and run nothing"

# ------------------------------------------------------------------ ConstrainDevices
step "ConstrainDevices=yes: the step opens exactly the RDMA devices it asked for"
# shellcheck disable=SC2016 # expanded in the task
gated='for d in rxe0 rxe1; do printf "%s " $d; ./crdma-vm-open -d $d -n 1 | head -1; done
	for n in uverbs0 uverbs1 rdma_cm; do
		msg=$( { : <>/dev/infiniband/$n; } 2>&1 ) && echo "$n opens" || echo "$n: ${msg##*: }"
	done
	head -c1 /dev/full >/dev/null 2>&1 && echo "gres file open" || echo "gres file denied"
	head -c1 /dev/zero >/dev/null 2>&1 && echo "zero open" || echo "zero denied"'
capture as_user srun --rdma=devices=rxe0 bash -c "$gated"
show
assert_contains "$OUT" 'rxe0 opened=1 errno=0' "rxe0, asked for, opens"
assert_contains "$OUT" 'rxe1 opened=0' "ibv_open_device of rxe1, not asked for, fails"
assert_contains "$OUT" 'uverbs0 opens' "uverbs0 opens"
assert_contains "$OUT" 'uverbs1: Operation not permitted' "rxe1's node is denied (EPERM)"
assert_contains "$OUT" 'rdma_cm opens' "rdma_cm, in the plan, opens"
assert_contains "$OUT" 'gres file denied' "Slurm's own program still denies the GRES not allocated"
assert_contains "$OUT" 'zero open' "other devices are untouched"
capture as_user srun --rdma=devices=rxe0 --gres=gpu:1 bash -c "$gated"
show
assert_contains "$OUT" 'rxe0 opened=1 errno=0' "with --gres: rxe0 opens"
assert_contains "$OUT" 'uverbs1: Operation not permitted' "with --gres: rxe1's node still denied"
assert_contains "$OUT" 'gres file open' "with --gres: Slurm allows its GRES file"
capture as_user srun --rdma=devices=rxe0,rdma-cm=false bash -c "$gated"
show
assert_contains "$OUT" 'rdma_cm: Operation not permitted' "rdma-cm=false: rdma_cm denied"
assert_contains "$OUT" 'uverbs0 opens' "rdma-cm=false: uverbs0 opens"
capture as_user srun bash -c "$gated"
show
assert_contains "$OUT" 'rxe0 opened=1 errno=0' "without --rdma: rxe0 opens"
assert_contains "$OUT" 'rxe1 opened=1 errno=0' "without --rdma: rxe1 opens (not touched)"
assert_contains "$OUT" 'uverbs1 opens' "without --rdma: uverbs1 opens"
assert_contains "$OUT" 'gres file denied' "without --rdma: Slurm's program as always"
ok "ConstrainDevices: crdma's program and Slurm's both in force"

# ------------------------------------------------------------------ sbatch
step "sbatch --rdma=devices=rxe0,hca-handles=1,memlock=1G"
capture as_user sbatch --wait --rdma=devices=rxe0,hca-handles=1,memlock=1G -o "$WORK/out/batch.out" \
	--wrap "$report"
show
sed 's/^/   | /' "$WORK/out/batch.out"
assert_eq 0 "$RC" "sbatch --wait exit status"
batch=$(cat "$WORK/out/batch.out")
assert_contains "$batch" 'rdma.max rxe0 hca_handle=1 hca_object=65536' "the batch step's rdma.max"
assert_contains "$batch" 'memlock 1048576' "the batch script's ulimit -l"
assert_contains "$batch" 'opened=1 errno=11 (EAGAIN)' "EAGAIN in the batch step"

step "sbatch over the policy: the job fails, its output has crdma's line"
capture as_user sbatch --wait --rdma=devices=rxe0,hca-handles=100 -o "$WORK/out/batch-refused.out" \
	--wrap "touch $WORK/out/ran-batch-refused"
show
sed 's/^/   | /' "$WORK/out/batch-refused.out" 2>/dev/null || true
assert_eq 1 "$((RC != 0))" "sbatch --wait fails"
assert_contains "$(cat "$WORK/out/batch-refused.out" 2>/dev/null)" 'crdma: --rdma hca-handles="100": above the limit 8' "crdma's line in the job's output"
[[ ! -e $WORK/out/ran-batch-refused ]] || fail "the refused batch script ran"
ok "sbatch: limits applied, refusal fails the job"

# ------------------------------------------------------------------ two steps talking RDMA
step "one job, two steps: ib_write_bw server (rxe0) and client (rxe1) under their limits"
gs=$(gid_index_ll rxe0) || fail "rxe0 has no link-local GID"
gc=$(gid_index_ll rxe1) || fail "rxe1 has no link-local GID"
cat >"$WORK/pair.sh" <<EOF
#!/bin/bash
srun -n1 --overlap --rdma=devices=rxe0,hca-handles=2 ib_write_bw -d rxe0 -x $gs -p 18515 -n 200 -F >$WORK/out/bw-server.out 2>&1 &
for i in \$(seq 120); do ss -ltn | grep -q ':18515 ' && break; sleep 0.5; done
sleep 1
srun -n1 --overlap --rdma=devices=rxe1,hca-handles=2 ib_write_bw -d rxe1 -x $gc -p 18515 -n 200 -F $VETH0_IP >$WORK/out/bw-client.out 2>&1
c=\$?
wait %1; s=\$?
echo "server \$s client \$c"
EOF
chmod 755 "$WORK/pair.sh"
capture as_user sbatch --wait -n2 -o "$WORK/out/pair.out" "$WORK/pair.sh"
show
sed 's/^/   | server: /' "$WORK/out/bw-server.out" | tail -6
sed 's/^/   | client: /' "$WORK/out/bw-client.out" | tail -6
assert_eq 0 "$RC" "the pair job's exit status"
assert_contains "$(cat "$WORK/out/pair.out")" 'server 0 client 0' "both steps exit 0"
bw=$(awk '/^ *65536 /{print $4}' "$WORK/out/bw-client.out" | tail -1)
figure "ib_write_bw between two job steps rxe1 -> rxe0: 65536 B x 200: average ${bw:-?} MB/s"
ok "two steps of one job talk RDMA under --rdma"

# ------------------------------------------------------------------ crdma-hook status
step "crdma-hook status: a job step holding rxe0 is a row, its figures those of its cgroup"
as_user srun --rdma=devices=rxe0,hca-handles=3 ./crdma-vm-open -d rxe0 -n 2 --hold \
	>"$WORK/out/hold.out" 2>&1 &
hold_pid=$!
wait_for "$WORK/out/hold.out" '^holding' 90
job=$(squeue -h -u "$user" -o %i | head -1)
cg=$(find /sys/fs/cgroup/system.slice -maxdepth 3 -type d -path "*job_$job/step_0" | head -1)
[[ -n $cg ]] || fail "no cgroup for job $job step 0"
capture "$CRDMA_HOOK" status --json
[[ $RC -eq 0 ]] || { show; fail "crdma-hook status --json: exit $RC"; }
printf '%s\n' "$OUT" >"$CRDMA_ARTIFACTS/18-slurm-status.json"
row=$(jq -r --arg cg "${cg#/sys/fs/cgroup/}" '.rdmaLimits[] | select(.cgroup == $cg and .device == "rxe0")
	| "\(.container) \(.engine) \(.hcaHandles.used)/\(.hcaHandles.limit)"' <<<"$OUT")
cur=$(rdma_line "$cg/rdma.current" rxe0 | sed -n 's/.*hca_handle=\([0-9]*\).*/\1/p')
note "$cg/rdma.current: $(rdma_line "$cg/rdma.current" rxe0)"
assert_eq "job $job step 0 slurm ${cur:-?}/3" "$row" "the step's status row against rdma.current/rdma.max"
assert_eq 2 "${cur:-0}" "rdma.current charges the step's two open contexts"
capture "$CRDMA_HOOK" status
show
assert_match "$OUT" "job $job step 0 +slurm +rxe0 +2/3" "the table's line for the step"
scancel "$job"
wait "$hold_pid" 2>/dev/null || true

# ------------------------------------------------------------------ srun --container
# A rootless bundle the job user owns: `runc spec --rootless` as that user, the host's
# dirs bound read-only, the tool at /opt/crdma-vm.
B=$WORK/bundle
install -d -o "$user" "$B" "$B/rootfs"
make_rootfs "$B/rootfs"
chown -R "$user" "$B"
runuser -u "$user" -- bash -c "cd '$B' && runc spec --rootless"
binds=$(for d in $(host_dir_binds) "$WORK:/opt/crdma-vm"; do
	src=${d%%:*} dst=${d#*:}
	printf '{"destination":"%s","type":"bind","source":"%s","options":["rbind","ro","nosuid"]},' "$dst" "$src"
done)
jq ".mounts += [${binds%,}] | .root.readonly = true" "$B/config.json" >"$B/config.json.new"
mv "$B/config.json.new" "$B/config.json"
chown "$user" "$B/config.json"
cp "$B/config.json" "$CRDMA_ARTIFACTS/slurm-bundle.config.json"
inside='ls /dev/infiniband | paste -sd" "; echo "memlock $(ulimit -l)";
	ibv_devinfo -d rxe0 | grep -E "hca_id|state:" | tr -s "\t " " ";
	/opt/crdma-vm/crdma-vm-open -d rxe0 -n 2; echo "open exit $?"'

for rt in runc crun; do
	step "srun --container with rootless $rt: --rdma=devices=rxe0,hca-handles=1,memlock=1G"
	if [[ $rt == runc ]]; then
		rtc="runc --rootless=true --root=/tmp/crdma-runc-%u"
		run="$rtc run %n.%u.%j.%s.%t -b %b"
	else
		rtc="crun --root=/tmp/crdma-crun-%u"
		run="$rtc run --bundle %b %n.%u.%j.%s.%t"
	fi
	cat >"$S/oci.conf" <<EOF
RunTimeQuery="$rtc state %n.%u.%j.%s.%t"
RunTimeKill="$rtc kill -a %n.%u.%j.%s.%t"
RunTimeDelete="$rtc delete --force %n.%u.%j.%s.%t"
RunTimeRun="$run"
EOF
	sed 's/^/   oci.conf: /' "$S/oci.conf"
	capture as_user srun --container="$B" --rdma=devices=rxe0,hca-handles=1,memlock=1G bash -c "$inside"
	show
	assert_contains "$OUT" 'rdma_cm uverbs0' "the container's /dev/infiniband: rdma_cm and uverbs0"
	assert_not_contains "$OUT" 'uverbs1' "no other device's node"
	assert_contains "$OUT" 'memlock 1048576' "ulimit -l in the container"
	assert_contains "$OUT" 'state: PORT_ACTIVE' "ibv_devinfo -d rxe0 in the container"
	assert_contains "$OUT" 'opened=1 errno=11 (EAGAIN)' "the step's hca-handles=1 holds in the container"

	step "srun --container with rootless $rt, no --rdma: no RDMA node"
	capture as_user srun --container="$B" bash -c 'ls /dev/infiniband 2>&1; echo "memlock $(ulimit -l)"'
	show
	assert_contains "$OUT" 'No such file or directory' "no /dev/infiniband"
	ok "srun --container ($rt): the nodes asked for, limits in force"
done
rm -f "$S/oci.conf"

# ------------------------------------------------------------------ charliecloud
command -v ch-run >/dev/null || fail "ch-run not found: scripts/install-deps.sh vm installs charliecloud-runtime"
step "charliecloud (ch-run $(USER=$user ch-run --version 2>&1), unprivileged) in a job step: the plugin's limits inside"
C=$WORK/chimage
make_rootfs "$C"
chmod 755 "$C"
# shellcheck disable=SC2016 # expanded in the container
inside_ch='echo "in $(sed -n "s/^0:://p" /proc/self/cgroup) as $(id -un)"; echo "memlock $(ulimit -l)"
	echo "uid_map $(tr -s " " </proc/self/uid_map)"
	ibv_devinfo -d rxe0 | grep -E "state:" | tr -s "\t " " "
	msg=$( { : <>/dev/infiniband/uverbs1; } 2>&1 ) && echo "uverbs1 opens" || echo "uverbs1: ${msg##*: }"
	'"$WORK"'/crdma-vm-open -d rxe0 -n 2'
capture as_user srun --rdma=devices=rxe0,hca-handles=1,memlock=1G ch-run -b /usr:/usr "$C" -- sh -c "$inside_ch"
show
assert_match "$OUT" "in /system\.slice/([^/]+_)?slurmstepd\.scope/job_[0-9]+/step_0/user/task_0 as $user" "ch-run's process: the job user, in the step's task cgroup"
assert_not_contains "$OUT" 'uid_map 0 0 4294967295' "a user namespace of its own (a container, not the host's)"
assert_contains "$OUT" 'memlock 1048576' "ulimit -l in the container"
assert_contains "$OUT" 'state: PORT_ACTIVE' "ibv_devinfo -d rxe0 in the container"
assert_contains "$OUT" 'uverbs1: Operation not permitted' "rxe1's node denied in the container (ConstrainDevices)"
assert_contains "$OUT" 'opened=1 errno=11 (EAGAIN)' "the step's hca-handles=1 holds in the container"
ok "charliecloud: an unprivileged container in a job step gets the plugin's limits"
