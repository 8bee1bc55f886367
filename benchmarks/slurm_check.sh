#!/usr/bin/env bash
# The documented Slurm workflow (docs/slurm/*.sbatch, exactly as docs/scale.md shows them), run on
# a one-node Slurm cluster started on this machine, then checked. Not part of CI's tests.
#
#   benchmarks/slurm_check.sh            (as root: it may install slurmctld, slurmd and munge)
#
# 1. Installs Debian's Slurm and munge when missing; starts munged, slurmctld and slurmd with a
#    configuration in a temporary folder (2 CPUs, ports 16817/16818), stopped by their pids at exit.
# 2. A folder of 2,000 CIFAR-10 train images (the first 200 of each class), Lite0 at the imagenet
#    preset, 4 shards: the train job, the array with --dependency=afterok:<train>, the merge with
#    --dependency=afterok:<array>. The same step 2 on one machine, without the scheduler.
# 3. Checks: the merged index holds the one-machine index's rows in the same order (same file
#    bytes) and gives the same 10 neighbours for 200 queries; one array task cancelled mid-run
#    leaves no part file, the merge waits (DependencyNeverSatisfied), and the task run again
#    completes and the merge then matches; a task and a merge given rows of other weights fail
#    naming the file; the array's wall time against one machine's.
# 4. The Kubernetes Indexed Job (docs/kubernetes/embed-job.yaml) validated against the batch/v1
#    schema with kubernetes-validate (PyPI, in a throwaway virtual environment).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${SHARED:-$ROOT/../shared}
WEIGHTS=$SHARED/weights/efficientnet-lite0-57934424.pth
SHARDS=4
T=$(mktemp -d /tmp/pic2vec-slurm.XXXXXX)
echo "== working in $T"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    echo "== installing slurmctld, slurmd, slurm-client and munge"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >"$T/apt.log"
fi
swift build -c release --product pic2vec >"$T/build.log" 2>&1 || { tail -20 "$T/build.log"; exit 1; }
export PATH=$ROOT/.build/release:$PATH

# --- A one-node cluster ------------------------------------------------------------------------
stop_cluster() {
    for pid in "$T/slurmd.pid" "$T/slurmctld.pid" "$T/munge/munged.pid"; do
        [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
    done
}
trap stop_cluster EXIT
mkdir -p "$T/munge" "$T/state" "$T/spool"
chmod 755 "$T" "$T/munge"
if [ ! -f /etc/munge/munge.key ]; then dd if=/dev/urandom of="$T/munge/munge.key" bs=128 count=1 2>/dev/null; else cp /etc/munge/munge.key "$T/munge/munge.key"; fi
chmod 400 "$T/munge/munge.key"
munged --force --socket="$T/munge/munge.socket" --key-file="$T/munge/munge.key" --log-file="$T/munge/munged.log" \
    --pid-file="$T/munge/munged.pid" --seed-file="$T/munge/munged.seed"
HOST=$(hostname -s)
cat >"$T/slurm.conf" <<EOF
ClusterName=pic2vec-check
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.socket
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MinJobAge=3600
ReturnToService=2
NodeName=$HOST CPUs=2 RealMemory=$(($(free -m | awk '/^Mem:/ {print $2}') - 1024)) State=UNKNOWN
PartitionName=check Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$T/slurm.conf
slurmctld
slurmd
for _ in $(seq 60); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo -h -o %T | grep -q idle || { tail "$T/slurmctld.log" "$T/slurmd.log"; echo "the node never became idle" >&2; exit 1; }
sinfo

# --- Helpers -----------------------------------------------------------------------------------
# Waits until no task of job $1 is pending or running (a job held by a dependency that can never
# be satisfied is left alone when $2 is "dependency").
wait_job() {
    while squeue -h -j "$1" 2>/dev/null | grep -q .; do
        if [ "${2:-}" = dependency ] && squeue -h -j "$1" -o %r | grep -q DependencyNeverSatisfied; then return; fi
        sleep 1
    done
}
# The states of job $1's tasks, one per line ("COMPLETED", "FAILED", ...).
states() { scontrol show job "$1" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
all_completed() { [ -n "$(states "$1")" ] && ! states "$1" | grep -qv COMPLETED; }
# Seconds from the first task's start to the last task's end of job $1.
wall() {
    scontrol show job "$1" -o | python3 -c '
import sys, datetime
starts, ends = [], []
for line in sys.stdin:
    f = dict(p.split("=", 1) for p in line.split() if "=" in p)
    starts.append(datetime.datetime.fromisoformat(f["StartTime"])); ends.append(datetime.datetime.fromisoformat(f["EndTime"]))
print(int((max(ends) - min(starts)).total_seconds()))'
}
# Submits docs/slurm/$2 from work folder $1 with the check's settings (sbatch options after it);
# prints the job id. 1 CPU and 2 GB per task instead of the scripts' 8 and 8G: this node has 2 CPUs.
submit() {
    local work=$1 script=$2; shift 2
    (cd "$work" && sbatch --parsable --export=ALL,DATA="$T/photos",WEIGHTS="$WEIGHTS",SHARDS=$SHARDS,LISTS=16,CODES=16,PROBES=16 \
        --cpus-per-task=1 --mem=2G -o "slurm-%x-%A_%a.out" "$@" "$ROOT/docs/slurm/$script")
}
fail() { echo "CHECK FAILED: $*" >&2; exit 1; }
# The 10 neighbours of rows 0, 10, ..., 1990 of index $1, one line per query.
neighbours() {
    for q in $(seq 0 10 1999); do pic2vec search --index "$1" --query-index "$q" -k 10 --rerank none --json; done
}

# --- Data: the first 200 train images of each class ---------------------------------------------
for class in "$SHARED"/data/cifar10-jpeg/train/*/; do
    name=$(basename "$class")
    mkdir -p "$T/photos/$name"
    files=("$class"*.jpg)
    for f in "${files[@]:0:200}"; do ln -s "$f" "$T/photos/$name/$(basename "$f")"; done
done
echo "== $(find "$T/photos" -name '*.jpg' | wc -l) images, $SHARDS shards, EfficientNet-Lite0 (pretrained, $(basename "$WEIGHTS")), imagenet preset"

# --- The documented workflow ---------------------------------------------------------------------
mkdir -p "$T/run"
# The OPQ rotation trains on at least 1,280 rows: here the whole set (TRAIN_SHARD=0/1), one part is 500.
train=$(TRAIN_SHARD=0/1 submit "$T/run" train.sbatch)
array=$(submit "$T/run" embed.sbatch --array=0-$((SHARDS - 1)) --dependency=afterok:"$train")
merge=$(submit "$T/run" merge.sbatch --dependency=afterok:"$array")
echo "== submitted train $train, array $array, merge $merge"
# Each job in turn, so that a failure stops the check instead of leaving its dependants waiting.
for job in "$train" "$array" "$merge"; do
    wait_job "$job"
    all_completed "$job" || { tail -n 30 "$T"/run/slurm-*.out; fail "job $job: $(states "$job" | tr '\n' ' ')"; }
done
array_seconds=$(wall "$array")
echo "== the array ran in $array_seconds s (first task start to last task end)"

# --- One machine, no scheduler: step 2 as one process -------------------------------------------
mkdir -p "$T/one"
cp "$T/run/trained.index" "$T/run/trained.index.json" "$T/one/"
start=$(date +%s)
(cd "$T/one" && pic2vec embed --data "$T/photos" --model efficientnet-lite0 --weights "$WEIGHTS" --preset imagenet \
    --output all.npy >one.log 2>&1 && pic2vec index --trained trained.index --embeddings all.npy --normalize \
    --output photos.index >>one.log 2>&1) || { cat "$T/one/one.log"; fail "one-machine run"; }
one_seconds=$(($(date +%s) - start))
echo "== one machine: $one_seconds s"

cmp "$T/run/photos.index" "$T/one/photos.index" && same_bytes=yes || same_bytes=no
neighbours "$T/run/photos.index" >"$T/run/neighbours.json"
neighbours "$T/one/photos.index" >"$T/one/neighbours.json"
cmp -s "$T/run/neighbours.json" "$T/one/neighbours.json" || fail "the merged index answers differently from the one-machine index"
[ "$(wc -l <"$T/run/neighbours.json")" = 200 ] || fail "expected 200 answers"
echo "== merged index: same bytes as the one-machine index: $same_bytes; same 10 neighbours for 200 queries: yes"
[ "$same_bytes" = yes ] || fail "the merged index's bytes differ from the one-machine index's"

# --- One task cancelled mid-run, then run again --------------------------------------------------
mkdir -p "$T/retry/emb" "$T/retry/parts"
cp "$T/run/trained.index" "$T/run/trained.index.json" "$T/retry/"
array=$(submit "$T/retry" embed.sbatch --array=0-$((SHARDS - 1)))
merge=$(submit "$T/retry" merge.sbatch --dependency=afterok:"$array")
for _ in $(seq 600); do squeue -h -j "${array}_2" -o %T 2>/dev/null | grep -q RUNNING && break; sleep 0.5; done
squeue -h -j "${array}_2" -o %T 2>/dev/null | grep -q RUNNING || fail "task 2 was never seen running"
sleep 3
scancel "${array}_2"
wait_job "$array"
wait_job "$merge" dependency
reason=$(squeue -h -j "$merge" -o %r)
echo "== task 2 cancelled while running: states $(states "$array" | tr '\n' ' '); merge job pending, reason $reason"
[ "$reason" = DependencyNeverSatisfied ] || fail "the merge should wait for a dependency never satisfied, not '$reason'"
# Cancelled while embedding (3 s into a task of about 8 s), the task has written nothing; its index part
# is never there, whenever the cancel comes.
[ ! -e "$T/retry/parts/part-2.index" ] || fail "the cancelled task left parts/part-2.index"
[ -e "$T/retry/emb/part-2.npy" ] && echo "== (the cancel came after the embedding: emb/part-2.npy is whole)"
left=$(find "$T/retry" -name '.*tmp-*' | wc -l)
echo "== no part 2 file; $left hidden temporaries of the killed write"
scancel "$merge"
rerun=$(submit "$T/retry" embed.sbatch --array=2)
merge=$(submit "$T/retry" merge.sbatch --dependency=afterok:"${array}_0:${array}_1:${array}_3:$rerun")
wait_job "$rerun"
all_completed "$rerun" || fail "the rerun of task 2: $(states "$rerun")"
wait_job "$merge" dependency
all_completed "$merge" || fail "the merge after the rerun: $(states "$merge")"
cmp "$T/retry/photos.index" "$T/one/photos.index" || fail "the merge after the rerun differs"
[ "$(find "$T/retry" -name '.*tmp-*' | wc -l)" = 0 ] || fail "temporaries left after the rerun"
echo "== rerun of task 2 completed; the merge equals the one-machine index; no temporaries left"

# --- Rows of other weights -----------------------------------------------------------------------
mkdir -p "$T/other/emb" "$T/other/parts"
cp "$T/run/trained.index" "$T/run/trained.index.json" "$T/other/"
wrong=$(cd "$T/other" && sbatch --parsable --export=ALL,DATA="$T/photos",WEIGHTS=random,SHARDS=$SHARDS \
    --cpus-per-task=1 --mem=2G -o "slurm-%x-%A_%a.out" --array=1 "$ROOT/docs/slurm/embed.sbatch")
wait_job "$wrong"
states "$wrong" | grep -q FAILED || fail "a task embedding with other weights should fail"
message=$(grep -h "Error: emb/part-1.npy" "$T"/other/slurm-*.out || true)
[ -n "$message" ] || fail "the failed task's log does not name emb/part-1.npy"
echo "== task with other weights: FAILED: $message"
# A part made entirely with other weights (its own trained index, without a rotation: 500 rows) stops the merge.
(cd "$T/other" && pic2vec embed --data "$T/photos" --model efficientnet-lite0 --weights random --preset imagenet \
    --shard 1/$SHARDS --output other-1.npy && pic2vec index --embeddings other-1.npy --normalize --type ivfpq \
    --lists 16 --codes 16 --probes 16 --train-only --output other-trained.index \
    && pic2vec index --trained other-trained.index --embeddings other-1.npy --normalize --output parts/part-1.index) \
    >"$T/other/other.log" 2>&1 || { cat "$T/other/other.log"; fail "making the other part"; }
for i in 0 2 3; do cp "$T/run/parts/part-$i.index" "$T/run/parts/part-$i.index.json" "$T/run/parts/part-$i.index.labels.npy" "$T/other/parts/"; done
merge=$(submit "$T/other" merge.sbatch)
wait_job "$merge"
states "$merge" | grep -q FAILED || fail "the merge of a part of other weights should fail"
message=$(grep -h "Error: parts/part-1.index" "$T"/other/slurm-pic2vec-merge-*.out || true)
[ -n "$message" ] || fail "the failed merge's log does not name parts/part-1.index"
[ ! -e "$T/other/photos.index" ] || fail "the failed merge wrote an index"
echo "== merge with a part of other weights: FAILED: $message"

# --- Kubernetes ----------------------------------------------------------------------------------
if python3 -m venv "$T/k8s-venv" && "$T/k8s-venv/bin/pip" install -q kubernetes-validate >"$T/k8s.log" 2>&1; then
    "$T/k8s-venv/bin/kubernetes-validate" --strict docs/kubernetes/embed-job.yaml || fail "the Kubernetes Job does not validate"
else
    echo "== kubernetes-validate could not be installed (no PyPI?): the manifest was not validated; see $T/k8s.log"
fi

cat <<EOF

== Summary ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores)
2,000 images, $SHARDS shards, EfficientNet-Lite0 (pretrained) at 224 px, IVF16,PQ16 with OPQ
array (4 tasks of 1 CPU on 2 CPUs):  $array_seconds s
one machine (one process, 2 cores):  $one_seconds s
merged index = one-machine index:    bytes identical, same neighbours for 200 queries
cancelled task:                      no part file, merge waits (DependencyNeverSatisfied), rerun completes
other weights:                       task and merge fail naming the file
EOF
