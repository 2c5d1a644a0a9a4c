#!/usr/bin/env bash
# Render benchmark: kubeship render vs kubectl kustomize on generated kustomizations of
# 1,000 and 5,000 resources and an overlay chain over them (base -> staging -> prod).
# Prints each time, the ratio kubectl/kubeship, and how kubeship's time grows with size.
# Usage: bench/render/run.sh [SIZES...]   (default: 1000 5000; set KUBECTL_RUNS=1 to bound
# the slow kubectl runs, default 1 for 5,000 resources and 3 below).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sizes=("${@:-1000}")
[ $# -eq 0 ] && sizes=(1000 5000)
work=${BENCH_DIR:-$(mktemp -d /tmp/kubeship-render-bench.XXXXXX)}

command -v hyperfine >/dev/null || { echo "installing hyperfine (apt)"; apt-get install -y -qq hyperfine >/dev/null; }
command -v kubectl >/dev/null || { echo "kubectl not found: cannot compare" >&2; exit 1; }
(cd "$root" && cargo build --release --quiet)
bin="$root/target/release/kubeship"
python3 "$here/generate.py" "$work" "${sizes[@]}"

declare -A ours theirs
for n in "${sizes[@]}"; do
  for layer in base prod; do
    dir="$work/$n/$layer"
    diff <("$bin" render --repo "$work" "$dir") <(kubectl kustomize "$dir" 2>/dev/null) >/dev/null \
      && same="identical output" || same="OUTPUT DIFFERS"
    runs=${KUBECTL_RUNS:-$([ "$n" -ge 5000 ] && echo 1 || echo 3)}
    hyperfine --style basic --export-json "$work/ours-$n-$layer.json" --warmup 1 --runs 10 \
      "$bin render --repo $work $dir" >/dev/null
    hyperfine --style basic --export-json "$work/theirs-$n-$layer.json" --runs "$runs" \
      "kubectl kustomize $dir" >/dev/null
    o=$(python3 -c "import json;print(json.load(open('$work/ours-$n-$layer.json'))['results'][0]['mean'])")
    t=$(python3 -c "import json;print(json.load(open('$work/theirs-$n-$layer.json'))['results'][0]['mean'])")
    ours[$n-$layer]=$o; theirs[$n-$layer]=$t
    python3 -c "print(f'{\"$n\":>5} resources, {\"$layer\":<5}: kubeship {$o*1000:8.1f} ms   kubectl kustomize {$t*1000:9.1f} ms   ratio {$t/$o:6.1f}x   ($same)')"
  done
done
if [ ${#sizes[@]} -ge 2 ]; then
  a=${sizes[0]}; b=${sizes[-1]}
  for layer in base prod; do
    python3 -c "
o1,o2=${ours[$a-$layer]},${ours[$b-$layer]}
print(f'growth {\"$layer\"}: {o2/o1:.1f}x time for {$b/$a:.0f}x resources (linear = {$b/$a:.0f}x)')"
  done
fi
echo "inputs kept in $work"
