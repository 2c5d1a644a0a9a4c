#!/usr/bin/env bash
# Cluster benchmarks against the fake API server with injected latency (default 5 ms):
#  - diff: `kubeship diff` vs `kubectl diff --server-side` on an applied environment, with the
#    floor (objects x requests per object x latency / concurrency) and the ratio to it;
#  - apply: a first `kubeship apply` vs `kubectl apply --server-side` on a fresh fake.
# Usage: bench/cluster/run.sh [SIZES...]   (default 300 1000); LATENCY_MS, RUNS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(300 1000)
latency=${LATENCY_MS:-5}
runs=${RUNS:-3}
concurrency=16
(cd "$root" && cargo build --release --quiet -p kubeship -p fake-apiserver)
bin="$root/target/release/kubeship"
fake="$root/target/release/fake-apiserver"
work=$(mktemp -d /tmp/kubeship-cluster-bench.XXXXXX)
export HOME="$work/home"; mkdir -p "$HOME"
pid=""
start_fake() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  "$fake" --port 0 --latency-ms "$latency" --workload-delay-ms 0 --kubeconfig "$work/kubeconfig" --context fake > "$work/fake.url" &
  pid=$!
  for _ in $(seq 50); do [ -s "$work/fake.url" ] && break; sleep 0.1; done
  : > "$work/fake.url"
}
trap '[ -n "$pid" ] && kill $pid 2>/dev/null' EXIT
export KUBECONFIG="$work/kubeconfig"
now() { date +%s.%N; }
mean() { python3 -c "import sys;v=[float(x) for x in sys.argv[1:]];print(sum(v)/len(v))" "$@"; }
have_kubectl=1; command -v kubectl >/dev/null || have_kubectl=0

for n in "${sizes[@]}"; do
  repo="$work/repo-$n"; python3 "$here/generate.py" "$repo" "$n"
  envdir="$repo/clusters/bench"
  # diff, on an environment that has been applied once.
  start_fake
  "$bin" --quiet --repo "$repo" apply --env bench --yes >/dev/null 2>&1 || true
  ours=(); theirs=()
  for _ in $(seq "$runs"); do
    t0=$(now); "$bin" --quiet --repo "$repo" diff --env bench >/dev/null; t1=$(now); ours+=("$(python3 -c "print($t1-$t0)")")
    if [ $have_kubectl = 1 ]; then
      t0=$(now); kubectl diff --server-side -f "$envdir" >/dev/null 2>&1 || true; t1=$(now); theirs+=("$(python3 -c "print($t1-$t0)")")
    fi
  done
  o=$(mean "${ours[@]}")
  floor=$(python3 -c "print($n*2*$latency/1000/$concurrency)")
  line=$(python3 -c "print(f'diff  {$n:>5} objects: kubeship {$o:6.2f} s   floor {$floor:5.2f} s (x{$o/$floor:.2f})')")
  if [ $have_kubectl = 1 ]; then
    k=$(mean "${theirs[@]}")
    line="$line$(python3 -c "print(f'   kubectl diff --server-side {$k:7.2f} s   ratio {$k/$o:5.1f}x')")"
  fi
  echo "$line"
  # apply, first time, on a fresh fake each run.
  ours=(); theirs=()
  for _ in $(seq "$runs"); do
    start_fake
    t0=$(now); "$bin" --quiet --repo "$repo" apply --env bench --yes >/dev/null; t1=$(now); ours+=("$(python3 -c "print($t1-$t0)")")
    if [ $have_kubectl = 1 ]; then
      start_fake
      t0=$(now); kubectl apply --server-side -f "$envdir" >/dev/null 2>&1; t1=$(now); theirs+=("$(python3 -c "print($t1-$t0)")")
    fi
  done
  o=$(mean "${ours[@]}")
  line=$(python3 -c "print(f'apply {$n:>5} objects: kubeship {$o:6.2f} s')")
  if [ $have_kubectl = 1 ]; then
    k=$(mean "${theirs[@]}")
    line="$line$(python3 -c "print(f'   kubectl apply --server-side {$k:7.2f} s   ratio {$k/$o:5.1f}x')")"
  fi
  echo "$line"
done
echo "inputs in $work"
