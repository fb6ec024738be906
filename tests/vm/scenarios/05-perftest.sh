#!/usr/bin/env bash
# 05-perftest: RDMA traffic between two containers, by hand (no crdma): a runc container
# serves on rxe0 (veth0), a crun container is the client on rxe1 (veth1); perftest's
# ib_write_bw and ib_send_lat, and the RoCE v2 packets really cross the veth pair.
#
# GID index: both containers share the guest's network namespace, so the IPv4 GIDs
# (::ffff:192.168.77.x, index 1) do not work: the kernel routes a packet for a local IPv4
# address through lo, where rxe drops it, and the client hangs. The IPv6 link-local GIDs
# (fe80::, index 0) are routed out of the named device and work. So -x is the link-local
# index, found in sysfs; the TCP exchange of QP numbers goes to 192.168.77.1.
# `-D` (duration) reports 0 iterations under TCG: counts (-n) only.
# vm-timeout: 180
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

veth_ips
g0=$(gid_index_ll rxe0) || fail "rxe0 has no link-local GID"
g1=$(gid_index_ll rxe1) || fail "rxe1 has no link-local GID"
read -r gid0 <"/sys/class/infiniband/rxe0/ports/1/gids/$g0"
read -r gid1 <"/sys/class/infiniband/rxe1/ports/1/gids/$g1"
note "rxe0 GID[$g0] $gid0 ($(cat "/sys/class/infiniband/rxe0/ports/1/gid_attrs/types/$g0"))"
note "rxe1 GID[$g1] $gid1 ($(cat "/sys/class/infiniband/rxe1/ports/1/gid_attrs/types/$g1"))"

common=(--rdma-cm --memlock unlimited)
rx_packets() { cat /sys/class/net/veth0/statistics/rx_packets; }

PERF_SERVER=("${common[@]}" --rdma-dev 0)
PERF_CLIENT=("${common[@]}" --rdma-dev 1)

step "ib_write_bw -n 1000 (64 KiB messages)"
before=$(rx_packets)
perftest_pair ib_write_bw 18515 1000
after=$(rx_packets)
assert_contains "$CLIENT" "RDMA_Write BW Test" "ib_write_bw client"
assert_contains "$CLIENT" "Device         : rxe1" "client device"
assert_contains "$SERVER" "Device         : rxe0" "server device"
# " 65536      1000           12.34              11.89  		   0.000190"
line=$(grep -E '^ *65536 +1000 +' <<<"$CLIENT") || fail "no result line for 65536 bytes x 1000"
read -r _ _ peak avg rate <<<"$line"
figure "ib_write_bw rxe1 -> rxe0: 65536 B x 1000: peak $peak MB/s, average $avg MB/s, $rate Mpps"
awk -v a="$avg" 'BEGIN { exit !(a > 0) }' || fail "average bandwidth $avg is not > 0"
ok "ib_write_bw average bandwidth $avg MB/s > 0"
rx=$((after - before))
note "veth0 received $rx packets during the test"
# 1000 x 64 KiB in 1024-byte RoCE MTU packets is 64000 packets; ask for most of them
((rx >= 60000)) || fail "veth0 received only $rx packets: the traffic did not cross the veth pair"
ok "the RDMA writes crossed the veth pair ($rx packets >= 60000)"

step "ib_send_lat -n 1000 (2-byte messages)"
perftest_pair ib_send_lat 18516 1000
assert_contains "$CLIENT" "Send Latency Test" "ib_send_lat client"
# " 2       1000          38.42          1201.65      64.10     68.51     ..."
line=$(grep -E '^ *2 +1000 +' <<<"$CLIENT") || fail "no result line for 2 bytes x 1000"
read -r _ _ tmin tmax ttyp tavg _ <<<"$line"
figure "ib_send_lat rxe1 <-> rxe0: 2 B x 1000: t_min $tmin us, t_typical $ttyp us, t_avg $tavg us, t_max $tmax us"
awk -v a="$tavg" 'BEGIN { exit !(a > 0) }' || fail "average latency $tavg is not > 0"
ok "ib_send_lat average latency $tavg us"
