#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, to run deploy/slurm/ for real (tests/slurm/run.sh,
# from .ci/run) or to try it by hand. Run as root.
#
#   scripts/slurm-cluster.sh up      install slurm-wlm and munge from Debian when missing, write a
#                                    slurm.conf for one node (this machine's CPUs and memory, no
#                                    cgroups), start munged, slurmctld and slurmd, and wait until
#                                    sinfo shows the node idle; says so if the cluster is already up
#   scripts/slurm-cluster.sh down    cancel its jobs, stop the daemons it started (by the process
#                                    ids it recorded) and remove its state folder
#   scripts/slurm-cluster.sh status  the daemons it started, sinfo and squeue; exit code 1 if not up
#   scripts/slurm-cluster.sh env     the line that points Slurm's commands at this cluster:
#                                    eval "$(scripts/slurm-cluster.sh env)"; sinfo
#
# Everything lives in one state folder, SURGE_SLURM_DIR (default /tmp/surge-slurm): slurm.conf,
# a munge key and socket of its own, the controller's state, slurmd's spool, logs and the
# recorded process ids. Nothing under /etc is written, so a machine's own munge or Slurm is left
# alone; Slurm's commands find this cluster through SLURM_CONF=$SURGE_SLURM_DIR/slurm.conf.
# The node is called after this host (hostname -s) at 127.0.0.1, in one partition, `surge`;
# its ports are 6817 (slurmctld) and 6818 (slurmd), or SURGE_SLURM_PORTS="CTLD SLURMD".
set -euo pipefail

dir=${SURGE_SLURM_DIR:-/tmp/surge-slurm}
conf=$dir/slurm.conf
marker="# written by scripts/slurm-cluster.sh"
read -r ctld_port slurmd_port <<<"${SURGE_SLURM_PORTS:-6817 6818}"
export SLURM_CONF=$conf

say() { echo "slurm-cluster: $*"; }
die() {
    echo "slurm-cluster: $*" >&2
    exit 1
}

# The pid recorded for a daemon, if that process is still alive and still that daemon.
alive() {
    local f=$dir/pids/$1 pid
    [ -s "$f" ] || return 1
    pid=$(cat "$f")
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] && echo "$pid"
}

is_up() { alive munged >/dev/null && alive slurmctld >/dev/null && alive slurmd >/dev/null; }

install_packages() {
    local missing=()
    command -v munged >/dev/null || missing+=(munge)
    for c in slurmctld slurmd sbatch; do
        command -v "$c" >/dev/null || {
            missing+=(slurm-wlm)
            break
        }
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "${missing[*]} missing and not root: install them (apt-get install slurm-wlm munge)"
    command -v apt-get >/dev/null || die "${missing[*]} missing and no apt-get: install Slurm and munge"
    say "installing ${missing[*]} (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Run a daemon that forks into the background and record the pid it writes to its pid file.
start() {
    local name=$1 pidfile=$2
    shift 2
    "$@" || die "$name did not start (logs in $dir/log)"
    for _ in $(seq 100); do
        if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            cp "$pidfile" "$dir/pids/$name"
            say "$name started, pid $(cat "$pidfile")"
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$dir/log/$name.log" >&2 2>/dev/null || true
    die "$name did not write its pid file $pidfile"
}

write_conf() {
    local host node
    host=$(hostname -s)
    # slurmd -C prints this machine as Slurm sees it: CPUs, sockets, cores, threads, RealMemory.
    node=$(slurmd -C | head -n 1)
    node=${node#NodeName=* }
    cat >"$conf" <<EOF
$marker (one node on localhost for CI; removed by its 'down')
ClusterName=surge
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
# No cgroups: processes are tracked through their parents, tasks are not pinned.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
# No accounting database (sacct has nothing to read): 'scontrol show job' keeps finished jobs
# for MinJobAge (300 s), and each finished job is a line of log/jobcomp.txt.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
NodeName=$host NodeAddr=127.0.0.1 $node State=UNKNOWN
PartitionName=surge Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

up() {
    if is_up; then
        say "already up (state in $dir; $(sinfo -h -N -o '%N %t %c CPUs %m MB' 2>/dev/null || echo 'sinfo failed'))"
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "run as root: the daemons run as root"
    if [ -e "$dir" ]; then
        say "an earlier cluster in $dir is not fully running: taking it down first"
        down
    fi
    install_packages
    mkdir -p "$dir"/{munge,state,spool,run,log,pids}
    chmod 700 "$dir" "$dir/munge"
    write_conf

    # munge: a key and socket of this cluster's own, beside a machine's own munged if any.
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge/munge.key"
    start munged "$dir/run/munged.pid" munged --force \
        --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
        --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/munged.seed"
    start slurmctld "$dir/run/slurmctld.pid" slurmctld -f "$conf"
    start slurmd "$dir/run/slurmd.pid" slurmd -f "$conf"

    local state=""
    for _ in $(seq 120); do
        state=$({ sinfo -h -N -o '%t' 2>/dev/null || true; } | head -n 1)
        [ "$state" = idle ] && break
        sleep 0.5
    done
    if [ "$state" != idle ]; then
        sinfo -N -l >&2 || true
        tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
        die "the node is '$state', not idle, after 60 s"
    fi
    say "up: $(sinfo -h -N -o '%N %t, %c CPUs, %m MB, partition %P')"
    say "use it with: export SLURM_CONF=$conf"
}

# Stop one recorded daemon: SIGTERM, then SIGKILL after 10 s.
stop() {
    local name=$1 pid
    pid=$(alive "$name") || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || {
            say "$name (pid $pid) stopped"
            return 0
        }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    say "$name (pid $pid) killed"
}

down() {
    if [ ! -e "$dir" ]; then
        say "not up (no $dir)"
        return 0
    fi
    [ -f "$conf" ] && [ "$(head -c ${#marker} "$conf")" = "$marker" ] ||
        die "$dir has no slurm.conf of this script: not removing it"
    # Jobs first, so that no job step (slurmstepd and the job's processes) outlives slurmd.
    local steps=""
    if alive slurmctld >/dev/null; then
        if [ -n "$(squeue -h -o %i 2>/dev/null)" ]; then
            say "cancelling the jobs still queued or running"
            squeue -h -o %A | sort -u | xargs -r scancel 2>/dev/null || true
            for _ in $(seq 60); do
                [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
                sleep 1
            done
        fi
    fi
    if pid=$(alive slurmd); then
        steps=$({ ps -o pid= --ppid "$pid" 2>/dev/null || true; } | tr -d ' ' | tr '\n' ' ')
    fi
    stop slurmd
    stop slurmctld
    stop munged
    for p in $steps; do
        kill -KILL "$p" 2>/dev/null && say "killed a leftover job step, pid $p" || true
    done
    rm -rf "$dir"
    say "down ($dir removed)"
}

# Exit code 0 when all three daemons run, 1 otherwise.
status() {
    for d in munged slurmctld slurmd; do
        if pid=$(alive "$d"); then say "$d running, pid $pid"; else say "$d not running"; fi
    done
    if alive slurmctld >/dev/null; then
        sinfo -N -l
        squeue
    fi
    is_up
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
env) echo "export SLURM_CONF=$conf" ;;
*)
    echo "usage: $0 up|down|status|env" >&2
    exit 2
    ;;
esac
