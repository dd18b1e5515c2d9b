#!/usr/bin/env bash
# deploy/slurm/ on a real one-node Slurm cluster (scripts/slurm-cluster.sh); .ci/run runs it
# after `cargo test --release`. Two submissions of deploy/slurm/submit.sh, each a 4-task job
# array (2 CPUs a task) and its merge job (--dependency=afterok), for a sweep of
# models/mmck.toml over 12 thread counts, 2 replications each, 8 simulated hours a run (1 to 3 s
# on one core): each task runs 3 points, 6 runs, 2 at a time, so it lasts a few seconds (on a
# 2-CPU machine the tasks queue and run one at a time).
#
# 1. The array and the merge finish (every task COMPLETED, then the merge), and the merged
#    points.csv and sweep.json are byte for byte those of `surge sweep` on this machine.
# 2. Into a fresh folder: task 0 is cancelled (scancel) once its journal holds a finished run;
#    the merge job then can never start (its dependency is never satisfied) and is cancelled.
#    The same submission again: task 0 resumes, keeping every journaled run ("resuming: K of 6
#    runs already done, running the other 6-K", K the rows its journal held), tasks 1 to 3 find
#    their shards complete and run nothing, and the merge equals the single-machine result.
#
# Brings the cluster up if it is not up, and then takes it down on exit. Uses SURGE, else
# target/release/surge (built if missing). Prints every job id, the jobs' states as they change
# and at the end, and "diff: identical". Exit code 0 when everything holds, 1 otherwise (the
# work folder, with every job's log, is then kept and named).
set -Eeuo pipefail
trap 'echo "[slurm test] FAIL: a command failed at line $LINENO of $0" >&2' ERR
cd "$(dirname "$0")/../.."
repo=$PWD
cluster=$repo/scripts/slurm-cluster.sh
begin=$SECONDS

log() { echo "[slurm test +$((SECONDS - begin))s] $*"; }

if [ -z "${SURGE:-}" ]; then
    SURGE=$repo/target/release/surge
    [ -x "$SURGE" ] || cargo build --release
fi
export SURGE
export MODEL=$repo/models/mmck.toml
export SWEEP_ARGS="--vary tier.server.threads=8..19:1 --reps 2 --set scenario.duration=8h"
tasks=4       # the array: --array=0-3
runs_per_task=6 # 12 points over 4 shards (point p to shard p mod 4), 2 replications each

eval "$("$cluster" env)"
if ! "$cluster" status >/dev/null 2>&1; then
    trap '"$cluster" down' EXIT
    trap 'exit 143' TERM # so that a timeout's SIGTERM still takes the cluster down
    trap 'exit 130' INT
    "$cluster" up
fi
log "cluster: $(sinfo -h -N -o '%N %t, %c CPUs, %m MB, partition %P')"

work=$(mktemp -d "${TMPDIR:-/tmp}/surge-slurm-test.XXXXXX")

# One field (KEY=value) of a line of `scontrol -o show job`.
field() { { grep -o "\(^\| \)$1=[^ ]*" <<<"$2" || true; } | head -n 1 | cut -d= -f2-; }

# Every job of the given ids as Slurm has it now (array tasks one by one): id, name, state,
# reason and exit code. Finished jobs stay visible for MinJobAge (300 s).
states() {
    local id line name
    for id in "$@"; do
        scontrol -o show job "$id" 2>/dev/null | while read -r line; do
            name=$(field JobId "$line")
            [ -z "$(field ArrayTaskId "$line")" ] ||
                name="$(field ArrayJobId "$line")_$(field ArrayTaskId "$line")"
            printf '    job %-9s %-17s %-10s reason %-22s exit %s\n' "$name" \
                "$(field JobName "$line")" "$(field JobState "$line")" "$(field Reason "$line")" \
                "$(field ExitCode "$line")"
        done
    done
}

# The state (JobState) of one job or array task, e.g. 12 or 12_0.
state_of() { field JobState "$(scontrol -o show job "$1" 2>/dev/null | head -n 1)"; }

dump() {
    echo "---- squeue"
    squeue || true
    for f in "$work"/*/*.out; do
        [ -e "$f" ] || continue
        echo "---- $f"
        tail -n 20 "$f"
    done
    echo "---- slurmctld log"
    tail -n 30 "$(dirname "$SLURM_CONF")/log/slurmctld.log" || true
}

fail() {
    log "FAIL: $*"
    dump
    log "work folder kept: $work"
    exit 1
}

# Wait until none of the ids is queued, running or completing; print squeue whenever it changes.
# An id is an array or plain job (matches squeue's %F) or one array task (12_0, matches %i).
wait_gone() {
    local limit=$1 start=$SECONDS last="" now queue
    shift
    while :; do
        [ $((SECONDS - start)) -lt "$limit" ] || fail "jobs $* still queued after ${limit}s"
        if ! queue=$(squeue -h -o '%F %i %j %T %r'); then
            log "squeue failed: trying again"
            sleep 1
            continue
        fi
        now=$(awk -v ids=" $* " \
            'index(ids, " " $1 " ") || index(ids, " " $2 " ") {
                printf "%s%s %s %s", sep, $2, $3, $4; if ($5 != "None") printf " (%s)", $5; sep = " | " }' \
            <<<"$queue")
        if [ "$now" != "$last" ]; then
            log "squeue: ${now:-none of $* left}"
            last=$now
        fi
        [ -z "$now" ] && return 0
        sleep 0.5
    done
}

# Submit the array and its merge from folder $1 (the jobs' logs go there), results in $1/out;
# sets jid (the array) and mid (the merge).
submit() {
    local dir=$1 said
    mkdir -p "$dir"
    log "deploy/slurm/submit.sh --array=0-$((tasks - 1)) --cpus-per-task=2 (from $dir, OUT=$dir/out)"
    said=$(cd "$dir" && OUT="$dir/out" "$repo/deploy/slurm/submit.sh" \
        --array=0-$((tasks - 1)) --cpus-per-task=2)
    sed 's/^/    /' <<<"$said"
    jid=$(sed -n 's/^sweep array job \([0-9][0-9]*\).*/\1/p' <<<"$said")
    mid=$(sed -n 's/^merge job \([0-9][0-9]*\).*/\1/p' <<<"$said")
    [ -n "$jid" ] && [ -n "$mid" ] || fail "no job ids in the output of submit.sh"
    log "sbatch: array job $jid (tasks ${jid}_0 to ${jid}_$((tasks - 1))), merge job $mid (afterok:$jid)"
}

# Every task of array $1 and the merge $2 COMPLETED with exit code 0.
check_completed() {
    local s i
    log "final states (scontrol show job):"
    states "$1" "$2"
    for i in $(seq 0 $((tasks - 1))); do
        s=$(state_of "$1_$i")
        [ "$s" = COMPLETED ] || fail "array task $1_$i is $s, not COMPLETED"
    done
    s=$(state_of "$2")
    [ "$s" = COMPLETED ] || fail "merge job $2 is $s, not COMPLETED"
}

# The merged outputs in $1 against the single-machine sweep.
check_identical() {
    local f
    for f in points.csv sweep.json; do
        [ -f "$1/$f" ] || fail "the merge wrote no $1/$f"
        if ! cmp -s "$work/one-machine/$f" "$1/$f"; then
            diff "$work/one-machine/$f" "$1/$f" | head -n 20 || true
            fail "$1/$f differs from the single-machine $f"
        fi
    done
    log "diff: identical (merged points.csv, $(($(wc -l <"$1/points.csv") - 1)) rows, and sweep.json against surge sweep on one machine)"
}

# Whole runs in a shard's journal: lines after the marker and the header (a torn row is no line).
journal_rows() {
    local n=0
    [ ! -f "$1" ] || n=$(wc -l <"$1")
    echo $((n > 2 ? n - 2 : 0))
}

# --- The reference: the same sweep on this machine.
log "single machine: surge sweep models/mmck.toml $SWEEP_ARGS"
t=$SECONDS
read -ra sweep_args <<<"$SWEEP_ARGS" # split as deploy/slurm/sweep.sbatch splits it
"$SURGE" sweep "$MODEL" "${sweep_args[@]}" --quiet --out "$work/one-machine"
log "single machine: done in $((SECONDS - t))s ($(($(wc -l <"$work/one-machine/points.csv") - 1)) runs)"

# --- 1. The array and its merge, on the cluster.
log "== 1. a job array and its merge job"
t=$SECONDS
submit "$work/first"
wait_gone 600 "$jid" "$mid"
check_completed "$jid" "$mid"
log "array and merge: done in $((SECONDS - t))s"
check_identical "$work/first/out"

# --- 2. Cancel a task midway, resubmit.
log "== 2. task 0 cancelled midway, then the same submission again"
t=$SECONDS
dir=$work/resume
submit "$dir"
journal=$dir/out/shard-0000-of-0004.partial.csv
start=$SECONDS
while [ "$(journal_rows "$journal")" -lt 1 ]; do
    [ ! -e "$dir/out/shard-0000-of-0004.json" ] || fail "task ${jid}_0 finished before it could be cancelled"
    [ $((SECONDS - start)) -lt 300 ] || fail "the journal $journal never held a run"
    sleep 0.1
done
log "task ${jid}_0 has journaled $(journal_rows "$journal") of $runs_per_task runs: scancel ${jid}_0"
scancel "${jid}_0"
wait_gone 120 "${jid}_0"
kept=$(journal_rows "$journal")
log "task ${jid}_0 is $(state_of "${jid}_0"); its journal holds $kept of $runs_per_task runs"
[ "$kept" -ge 1 ] && [ "$kept" -lt "$runs_per_task" ] ||
    fail "the cancelled task journaled $kept runs: expected some, not all $runs_per_task"
[ ! -e "$dir/out/shard-0000-of-0004.json" ] || fail "the cancelled task wrote its shard"
# surge said so as it exited: Slurm waited for it (no run finished after the job ended).
said="interrupted with $kept of $runs_per_task runs done"
grep "$said" "$dir/surge-ircc-sweep-${jid}_0.out" | sed 's/^/    log: /' ||
    fail "task ${jid}_0's log does not say '$said' (surge still running after the job ended?)"
wait_gone 600 "$jid"
# afterok can no longer be met: the merge stays pending (DependencyNeverSatisfied), never runs.
start=$SECONDS
while [ "$(field Reason "$(scontrol -o show job "$mid")")" != DependencyNeverSatisfied ]; do
    [ $((SECONDS - start)) -lt 60 ] || fail "merge job $mid: $(state_of "$mid") ($(field Reason "$(scontrol -o show job "$mid")")), not pending on a never-satisfied dependency"
    sleep 0.5
done
log "states after the cancel:"
states "$jid" "$mid"
[ "$(state_of "$mid")" = PENDING ] || fail "merge job $mid ran after a task was cancelled"
log "merge job $mid can never start: scancel $mid"
scancel "$mid"
wait_gone 60 "$mid"
[ ! -e "$dir/out/points.csv" ] || fail "points.csv exists before the resubmission"

first=$jid
submit "$dir"
wait_gone 600 "$jid" "$mid"
check_completed "$jid" "$mid"
task0=$dir/surge-ircc-sweep-${jid}_0.out
want="resuming: $kept of $runs_per_task runs already done, running the other $((runs_per_task - kept))"
grep -q "^$want\$" "$task0" || fail "task ${jid}_0 did not say '$want' (its log: $task0)"
log "task ${jid}_0: $want"
for i in $(seq 1 $((tasks - 1))); do
    grep -q "already complete" "$dir/surge-ircc-sweep-${jid}_$i.out" ||
        fail "task ${jid}_$i ran again a shard that array $first had completed"
done
log "tasks ${jid}_1 to ${jid}_$((tasks - 1)): shard already complete, nothing run"
[ ! -e "$journal" ] || fail "the journal $journal is still there after the shard completed"
log "cancel and resume: done in $((SECONDS - t))s"
check_identical "$dir/out"

rm -rf "$work"
log "passed: a Slurm job array and its dependent merge job, twice, equal to one machine"
