#!/usr/bin/env bash
# 13-hook-perftest: RDMA traffic between two containers that got their devices from
# crdma-hook alone (createRuntime hook in config.json; no linux.devices, no allow rules, no
# rlimits by hand): a runc container serves ib_write_bw / ib_send_lat on rxe0, a crun
# container is the client on rxe1. GID choice and -n counts as in 05-perftest.
# vm-timeout: 200
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
veth_ips
hook=(--hook createRuntime "$CRDMA_HOOK createRuntime")
PERF_SERVER=("${hook[@]}" --annotation io.crdma.devices=rxe0)
PERF_CLIENT=("${hook[@]}" --annotation io.crdma.devices=rxe1)

step "ib_write_bw -n 1000 (64 KiB messages), devices from crdma-hook"
perftest_pair ib_write_bw 18525 1000
no_manual_devices "$WORK/ib_write_bw-server-18525"
no_manual_devices "$WORK/ib_write_bw-client-18525"
line=$(grep -E '^ *65536 +1000 +' <<<"$CLIENT") || fail "no result line for 65536 bytes x 1000"
read -r _ _ peak avg _ <<<"$line"
awk -v a="$avg" 'BEGIN { exit !(a > 0) }' || fail "average bandwidth $avg is not > 0"
ok "ib_write_bw rxe1 -> rxe0 through crdma: average $avg MB/s (peak $peak)"

step "ib_send_lat -n 1000 (2-byte messages), devices from crdma-hook"
perftest_pair ib_send_lat 18526 1000
line=$(grep -E '^ *2 +1000 +' <<<"$CLIENT") || fail "no result line for 2 bytes x 1000"
read -r _ _ tmin _ ttyp tavg _ <<<"$line"
awk -v a="$tavg" 'BEGIN { exit !(a > 0) }' || fail "average latency $tavg is not > 0"
ok "ib_send_lat rxe1 <-> rxe0 through crdma: typical $ttyp us, average $tavg us (min $tmin)"
