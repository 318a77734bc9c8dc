#!/usr/bin/env bash
# Installs everything backstaff and its test bed need on a fresh Debian machine (as root):
# docker.io (dockerd 20.10 for the test hosts), openssh-server, docker-registry, busybox-static
# (the images), iproute2 (network namespaces), apache2-utils (htpasswd); ruby and ruby-dotenv:
# deploy.yml ERB beyond backstaff's built-in evaluator is rendered by Ruby's own ERB, as Kamal
# does (Kamal bundles dotenv, so `require "dotenv"` works there too); tmux: the interactive
# exec tests (`exec -i`) type into a real terminal and read its screen back; jq: the shipped CI
# scripts (ci/) read GitHub's and GitLab's JSON with it, and their tests run them; shellcheck:
# .ci/run checks those scripts, and actionlint checks the workflows' run: blocks with it; then
# the package.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
packages="docker.io openssh-server openssh-client busybox-static docker-registry iproute2 apache2-utils git curl ruby ruby-dotenv tmux jq shellcheck"
missing=$(for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  apt-get update -qq
  # shellcheck disable=SC2086 # a list of package names
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[dev]'
