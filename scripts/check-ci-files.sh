#!/usr/bin/env bash
# Validates the CI files kubeship ships against the schemas bundled with check-jsonschema:
#   .gitlab-ci-template.yml         vendor.gitlab-ci
#   templates/kubeship.yml          vendor.gitlab-ci (the `spec:` header and the jobs document)
#   action.yml                      vendor.github-actions
#   examples/workflows/kubeship.yml vendor.github-workflows
# and, when a kubeship binary is at hand ($KUBESHIP_BIN, else target/debug/kubeship), the
# files `kubeship init` writes into a scratch repository.
#
# check-jsonschema is installed from PyPI into a venv under target/ when it is missing.
# Exit 0 when every file is valid.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

venv="${CHECK_CI_VENV:-$root/target/check-ci-venv}"
if command -v check-jsonschema >/dev/null 2>&1; then
    cj=check-jsonschema
elif [ -x "$venv/bin/check-jsonschema" ]; then
    cj="$venv/bin/check-jsonschema"
else
    echo "installing check-jsonschema into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check check-jsonschema
    cj="$venv/bin/check-jsonschema"
fi
"$cj" --version

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

failed=0
check() { # schema file...
    local schema=$1
    shift
    if "$cj" --builtin-schema "$schema" "$@"; then
        :
    else
        failed=1
        echo "FAILED ($schema): $*" >&2
    fi
}

# A CI/CD component is two YAML documents: the `spec:` header, then the jobs.
split_component() { # file outdir
    python3 - "$1" "$2" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
parts = re.split(r'(?m)^---[ \t]*$\n?', text)
if len(parts) != 2 or 'spec:' not in parts[0]:
    sys.exit(f"{sys.argv[1]}: expected a `spec:` header document, `---`, then the jobs")
open(f"{sys.argv[2]}/component-spec.yml", "w").write(parts[0])
open(f"{sys.argv[2]}/component-jobs.yml", "w").write(parts[1])
EOF
}

# Hidden jobs (`.name:`) are hardly checked by the schema: check them as visible jobs too.
visible() { # file out
    python3 - "$1" "$2" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r'(?m)^\.([A-Za-z0-9_-]+):', r'\1:', text)
text = re.sub(r'(?m)^(\s*extends:\s*)\.', r'\1', text)
open(sys.argv[2], "w").write(text)
EOF
}

visible .gitlab-ci-template.yml "$scratch/template-visible.yml"
check vendor.gitlab-ci .gitlab-ci-template.yml "$scratch/template-visible.yml"
split_component templates/kubeship.yml "$scratch"
check vendor.gitlab-ci "$scratch/component-spec.yml" "$scratch/component-jobs.yml"
check vendor.github-actions action.yml
check vendor.github-workflows examples/workflows/kubeship.yml

bin="${KUBESHIP_BIN:-$root/target/debug/kubeship}"
if [ -x "$bin" ]; then
    repo="$scratch/repo"
    mkdir -p "$repo/clusters/dev" "$repo/clusters/prod"
    git -C "$repo" init -q -b main
    (cd "$repo" && "$bin" --quiet init >/dev/null)
    check vendor.gitlab-ci "$repo/.gitlab-ci.yml" "$repo/.gitlab/kubeship.gitlab-ci.yml"
    check vendor.github-workflows "$repo/.github/workflows/kubeship.yml"
else
    echo "no kubeship binary at $bin: skipped the files kubeship init writes (set KUBESHIP_BIN)" >&2
fi

if [ "$failed" -ne 0 ]; then
    echo "check-ci-files: some CI files are not valid" >&2
    exit 1
fi
echo "check-ci-files: all CI files are valid"
