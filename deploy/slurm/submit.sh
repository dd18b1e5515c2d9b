#!/usr/bin/env bash
# Submit the IRCC sweep as a Slurm job array and its merge as a job that starts once every
# array task has succeeded. Run from the repository checkout (after `cargo build --release`),
# on a login node whose file system the compute nodes share.
#
#   deploy/slurm/submit.sh [SBATCH OPTION]...
#
# Options go to the array's sbatch and win over its #SBATCH lines (e.g. --array=0-3
# --cpus-per-task=2); options for both jobs go in sbatch's own variables (SBATCH_PARTITION,
# SBATCH_ACCOUNT). SURGE, MODEL, SWEEP_ARGS and OUT reach both jobs through the environment.
# Prints the two job ids (`sweep array job ID`, `merge job ID ...`) and where the results go.
# Resubmitting after a failed or cancelled task runs only what is missing (every task resumes).
set -euo pipefail
here=$(dirname "$0")
jid=$(sbatch --parsable "$@" "$here/sweep.sbatch")
jid=${jid%%;*} # "jobid;cluster" on multi-cluster sites
mid=$(sbatch --parsable --dependency=afterok:"$jid" "$here/merge.sbatch")
mid=${mid%%;*}
echo "sweep array job $jid"
echo "merge job $mid (runs after every task of $jid succeeds)"
echo "results: ${OUT:-outputs/ircc-2016/sweep-instances}/points.csv, sweep.json, sweep.png"
