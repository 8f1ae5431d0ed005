#!/usr/bin/env bash
# Starts a one-node Slurm cluster on loopback (munged, slurmctld, slurmd), runs a small sweep through
# `train_agent --backend slurm`, waits for the array, collects, checks that every unit equals the same unit
# run with `--backend local`, and stops the daemons it started. Needs root and Debian's slurm-wlm + munge.
set -euo pipefail
cd "$(dirname "$0")/.."
# Wherever cargo puts its build (CARGO_TARGET_DIR), as an absolute path.
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$(pwd)/$target ;; esac
exe=$target/release/train_agent
work=$(mktemp -d /tmp/reachlab-slurm.XXXXXX)
export SLURM_CONF=$work/slurm.conf
cat > "$SLURM_CONF" <<EOF
ClusterName=reachlab
SlurmctldHost=vm(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=vm NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=vm Default=YES MaxTime=INFINITE State=UP
EOF
mkdir -p "$work/state" "$work/spool" /run/munge
chown munge:munge /run/munge
[ -s /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1k count=1; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
# munged runs as munge, so its pid file lives in its own directory. A munged that already answers (the
# package's service, say) is used as it is.
if ! (munge -n | unmunge) >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/reachlab-munged.pid
fi
stop() {
  for f in "$work/slurmd.pid" "$work/slurmctld.pid" /run/munge/reachlab-munged.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
}
trap stop EXIT
slurmctld -c
slurmd -N vm
for _ in $(seq 60); do
  sinfo -h -o %t 2>/dev/null | grep -q idle && break
  sleep 0.5
done
sinfo

cat > "$work/sweep.toml" <<EOF
name = "ci"
base = "curl_field"
quick = true
[[axis]]
key = "seed"
values = [0, 1, 2]
EOF
"$exe" --sweep "$work/sweep.toml" --backend slurm --out "$work/slurm" --quiet
for _ in $(seq 600); do
  [ -z "$(squeue -h)" ] && break
  sleep 0.5
done
"$exe" --collect "$work/slurm"
"$exe" --sweep "$work/sweep.toml" --backend local --jobs 1 --out "$work/local" --quiet
# Same seed -> same numbers: the collected measures and every unit's learning curve (timing columns aside).
diff <(cut -d, -f2- "$work/slurm/collected.csv") <(cut -d, -f2- "$work/local/collected.csv")
for u in "$work"/local/unit-*; do
  n=$(basename "$u")
  diff <(cut -d, -f1-4,6-25 "$u/learning_curve.csv") <(cut -d, -f1-4,6-25 "$work/slurm/$n/learning_curve.csv")
done
echo "slurm sweep: $(($(wc -l < "$work/slurm/collected.csv") - 1)) units, identical to the local backend"

# A sweep of task networks (the flip-flop) through Slurm: same fixed points, performance and SVCCA matrix.
cat > "$work/ff.toml" <<EOF2
name = "ci-ff"
base = "flipflop"
quick = true
[[axis]]
key = "policy.core.kind"
values = ["vanilla", "gru"]
[[axis]]
key = "seed"
values = [0, 1]
EOF2
"$exe" --sweep "$work/ff.toml" --backend slurm --out "$work/ff-slurm" --quiet
for _ in $(seq 600); do
  [ -z "$(squeue -h)" ] && break
  sleep 0.5
done
"$exe" --collect "$work/ff-slurm"
"$exe" --sweep "$work/ff.toml" --backend local --jobs 1 --out "$work/ff-local" --quiet
# Columns: unit, kind, seed, mean_perf, min_perf, steps_to_criterion, wall_seconds (dropped), fixed points.
diff <(cut -d, -f1-6,8- "$work/ff-slurm/collected.csv") <(cut -d, -f1-6,8- "$work/ff-local/collected.csv")
diff "$work/ff-slurm/svcca_distance.csv" "$work/ff-local/svcca_distance.csv"
echo "slurm task sweep: $(($(wc -l < "$work/ff-slurm/collected.csv") - 1)) units, identical to the local backend"
