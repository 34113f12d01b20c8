#!/usr/bin/env bash
# git-patchew in five minutes, on a scratch project: mail a series, apply it with the
# CI include, push the tag to a bare "ci-hub" through the pre-push hook, then watch
# the hook refuse a tampered tag. Needs git and git-patchew on PATH; touches nothing
# outside a temporary directory (kept when DEMO_DIR is set).
set -euo pipefail

command -v git-patchew >/dev/null || { echo "demo: git-patchew is not on PATH (cargo install --path .)" >&2; exit 1; }
work=${DEMO_DIR:-$(mktemp -d)}
[ -n "${DEMO_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
cd "$work"
export GIT_CONFIG_NOSYSTEM=1 HOME="$work"
git config --global user.name "Demo Maintainer"
git config --global user.email "maintainer@example.org"
git config --global init.defaultBranch main
step() { printf '\n\033[1m== %s\033[m\n' "$*"; }

step "a project with its own GitLab CI"
git init -q project && cd project
cat > .gitlab-ci.yml <<'YML'
# The project's own pipeline, untouched by git-patchew except for one include.
stages: [build, test]
build:
  stage: build
  script: [make]
test:
  stage: test
  script: [make check]
YML
printf 'int answer(void) { return 41; }\n' > answer.c
git add -A && git commit -qm "answer: first version"

step "a contributor mails a two-patch series (git format-patch)"
git checkout -qb topic
printf 'int answer(void) { return 42; }\n' > answer.c
git commit -qam "answer: fix the answer" -m "Signed-off-by: Demo Maintainer <maintainer@example.org>"
printf 'int question(void) { return 6 * 9; }\n' > question.c
git add question.c && git commit -qm "question: add the question"
git format-patch -q --thread --cover-letter -o ../outbox main
git checkout -q main && git branch -qD topic
ls ../outbox

step "a ci-hub remote, the include URL, and the pre-push hook"
git init -q --bare ../ci-hub.git
git remote add ci-hub ../ci-hub.git
git config patchew.ciInclude https://ci-hub.example.org/patchew-ci.yml
git patchew install-hook

step "git patchew apply --push"
cat ../outbox/*.patch > ../series.mbox
git patchew apply --mbox ../series.mbox --push --json > ../report.json
tag=$(sed -n 's/^  "tag": "\(.*\)",$/\1/p' ../report.json)
echo "pushed $tag"
git --git-dir=../ci-hub.git rev-parse -q --verify "refs/tags/$tag" >/dev/null
git log --oneline -3 "$tag"

step "the tagged commit is the series plus the include, nothing else"
git show "$tag:.gitlab-ci.yml"
git diff "$tag~1" "$tag" --stat

step "a tampered tag is refused by the hook"
git checkout -q --detach "$tag"
sed -i 's/make check/make check || true/' .gitlab-ci.yml
git commit -qam "sneak a change into CI"
git tag patchew/tampered@example.org
git checkout -q main
if git push ci-hub refs/tags/patchew/tampered@example.org 2>../refused.txt; then
	echo "demo: the tampered tag was accepted!" >&2
	exit 1
fi
cat ../refused.txt
step "done: the good tag is on the ci-hub, the tampered one is not"
