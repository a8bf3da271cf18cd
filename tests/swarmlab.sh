#!/bin/sh
# A real multi-node Docker Swarm on one machine, for tests and benchmarks (root only).
#
#   tests/swarmlab.sh up N [IMAGE…]   N dockerd's (1..9), each in its own network namespace
#                                       on a bridge, joined into one swarm (node 1 manages);
#                                       each IMAGE is copied to every node (save | load)
#   tests/swarmlab.sh stop I           stop node I's engine (a worker going away)
#   tests/swarmlab.sh down             remove everything `up` made (safe to run twice)
#
# Names are fixed and private to this lab: bridge hs21br0 (10.77.0.1/24), namespaces
# hs21n1…, node I at 10.77.0.1I inside its namespace, sockets /run/hs21dI.sock, data roots
# /var/lib/hs21dI. Each dockerd is started with `nsenter --net` (not `ip netns exec`, which
# remounts /sys: "Devices cgroup isn't mounted") and its own UTS namespace, so nodes have
# distinct hostnames (hs21n1 …). The host engine's FORWARD policy is DROP: one ACCEPT rule
# for the bridge is added here and removed by `down`. Overlay subnets come from
# 10.77.128.0/17, inside the namespaces only. `up` tears down on any failure.
set -eu

BR=hs21br0
NS=hs21n
D=hs21d
RULE="FORWARD -i $BR -o $BR -j ACCEPT"
WAIT_S=${SWARMLAB_WAIT_S:-60}

n() { i=$1; shift; docker -H "unix:///run/$D$i.sock" "$@"; }

stop_node() {
    i=$1
    pidfile=/run/$D$i.pid
    if [ -f "$pidfile" ]; then
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        t=0
        while kill -0 "$pid" 2>/dev/null && [ $t -lt 40 ]; do sleep 0.5; t=$((t + 1)); done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$pidfile"
    fi
    # whatever that engine left in its namespace (containerd, shims, tasks): ours alone
    if [ -e "/var/run/netns/$NS$i" ]; then
        for pid in $(ip netns pids "$NS$i" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    fi
}

down() {
    for f in /run/$D[1-9].pid; do
        [ -e "$f" ] || continue
        i=${f#/run/$D}
        i=${i%.pid}
        stop_node "$i"
    done
    for i in 1 2 3 4 5 6 7 8 9; do
        # the host end of the node's veth pair: deleted here, not left to the kernel's
        # asynchronous clean-up of a deleted namespace (the next lab's `ip link add hs21vI`
        # then met "RTNETLINK answers: File exists")
        ip link del "hs21v$i" 2>/dev/null || true
        [ -e "/var/run/netns/$NS$i" ] || continue
        for pid in $(ip netns pids "$NS$i" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$NS$i" 2>/dev/null || true
    done
    # mounts an engine left (overlay2 layers, netns files), deepest first
    awk '{print $2}' /proc/mounts | grep -E "^(/var/lib|/run)/$D[1-9]" | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf /var/lib/$D[1-9] /run/$D[1-9] /run/$D[1-9].sock /run/$D[1-9].pid /run/$D[1-9].json
    ip link del "$BR" 2>/dev/null || true
    while iptables -C $RULE 2>/dev/null; do iptables -D $RULE; done
    # wait (bounded) until the kernel has really let go of the names the next lab makes
    t=0
    while ip -o link show 2>/dev/null | grep -qE ": (hs21v[1-9]|$BR)[@:]" && [ $t -lt 40 ]; do
        sleep 0.25
        t=$((t + 1))
    done
}

wait_engine() {
    i=$1
    t=0
    until n "$i" info --format '{{.ID}}' >/dev/null 2>&1; do
        t=$((t + 1))
        if [ $t -gt $((WAIT_S * 2)) ]; then
            echo "swarmlab: node $i's engine did not answer in ${WAIT_S}s; its log:" >&2
            tail -20 "/tmp/$D$i.log" >&2 || true
            return 1
        fi
        sleep 0.5
    done
}

up() {
    count=$1
    shift
    case $count in [1-9]) ;; *) echo "swarmlab: N is 1..9" >&2; exit 2 ;; esac
    down
    trap 'echo "swarmlab: up failed; tearing down" >&2; down' EXIT
    ip link add "$BR" type bridge
    ip addr add 10.77.0.1/24 dev "$BR"
    ip link set "$BR" up
    iptables -I $RULE
    i=1
    while [ $i -le "$count" ]; do
        ip netns add "$NS$i"
        ip link add "hs21v$i" type veth peer name eth0 netns "$NS$i"
        ip link set "hs21v$i" master "$BR" up
        ip -n "$NS$i" addr add "10.77.0.1$i/24" dev eth0
        ip -n "$NS$i" link set eth0 up
        ip -n "$NS$i" link set lo up
        mkdir -p "/var/lib/$D$i"
        echo '{}' >"/run/$D$i.json" # not the host's /etc/docker/daemon.json
        setsid nsenter --net="/var/run/netns/$NS$i" unshare --uts sh -c \
            "hostname $NS$i && exec dockerd --data-root /var/lib/$D$i --exec-root /run/$D$i \
             -H unix:///run/$D$i.sock --pidfile /run/$D$i.pid --config-file /run/$D$i.json \
             --containerd-namespace $D$i \
             --containerd-plugins-namespace ${D}p$i" \
            >"/tmp/$D$i.log" 2>&1 </dev/null &
        i=$((i + 1))
    done
    i=1
    while [ $i -le "$count" ]; do wait_engine $i; i=$((i + 1)); done
    n 1 swarm init --advertise-addr 10.77.0.11 --default-addr-pool 10.77.128.0/17 \
        --default-addr-pool-mask-length 24 --dispatcher-heartbeat 2s >/dev/null
    token=$(n 1 swarm join-token -q worker)
    i=2
    while [ $i -le "$count" ]; do
        n $i swarm join --advertise-addr "10.77.0.1$i" --token "$token" 10.77.0.11:2377 >/dev/null
        i=$((i + 1))
    done
    for image in "$@"; do
        i=1
        while [ $i -le "$count" ]; do
            docker save "$image" | n $i load -q >/dev/null
            i=$((i + 1))
        done
    done
    # every node ready before anything is scheduled
    t=0
    until [ "$(n 1 node ls --format '{{.Status}}' | grep -c Ready)" -eq "$count" ]; do
        t=$((t + 1))
        [ $t -le $((WAIT_S * 2)) ] || { echo "swarmlab: nodes not ready" >&2; exit 1; }
        sleep 0.5
    done
    trap - EXIT
}

case ${1:-} in
up) shift; up "$@" ;;
stop) stop_node "$2" ;;
down) down ;;
*) echo "usage: $0 up N [IMAGE…] | stop I | down" >&2; exit 2 ;;
esac
