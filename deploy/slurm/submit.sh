#!/usr/bin/env bash
# Submit the IRCC sweep as a Slurm job array and its merge as a job that starts once every
# array task has succeeded. Run from the repository checkout (after `cargo build --release`),
# on a login node whose file system the compute nodes share.
set -euo pipefail
here=$(dirname "$0")
jid=$(sbatch --parsable "$here/sweep.sbatch")
jid=${jid%%;*} # "jobid;cluster" on multi-cluster sites
mid=$(sbatch --parsable --dependency=afterok:"$jid" "$here/merge.sbatch")
echo "sweep array job $jid, merge job ${mid%%;*} (runs after every task of $jid succeeds)"
echo "results: ${OUT:-outputs/ircc-2016/sweep-instances}/points.csv, sweep.json, sweep.png"
