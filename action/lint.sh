#!/usr/bin/env bash
# Step "Lint" of the GitHub Action (../action.yml): runs `redline lint` on the inputs' paths
# once per format — `github` to standard output (the runner turns those workflow commands
# into annotations), `markdown` appended to the job summary ($GITHUB_STEP_SUMMARY), `sarif`
# to $RUNNER_TEMP/redline.sarif when asked — and writes the outputs `findings` (the number
# of findings, one annotation each) and `sarif` (the file's path, empty without it).
#
# The inputs arrive in environment variables set by the step's `env:` (never spliced into
# this script's text, so nothing in them is run by the shell):
#   REDLINE_PATHS    files or directories, one per line (blank lines ignored)
#   REDLINE_FAIL_ON  error | warning | info | never
#   REDLINE_CONFIG   a .redline.yaml (empty: lint finds one from the working directory)
#   REDLINE_SARIF    true | false
#
# Exit status: redline's. 1 (findings at or above fail-on, or a document that does not load)
# comes after the summary, the SARIF file and the outputs are written; 2 (usage,
# configuration or I/O error) stops at once, with redline's message on standard error and
# an error annotation.
set -euo pipefail

fail_on=${REDLINE_FAIL_ON:-error}
# Compared ignoring case, as action.yml's `inputs.sarif == 'true'` compares.
sarif_input=${REDLINE_SARIF:-true}
case ${sarif_input,,} in
  true) sarif=true ;;
  false) sarif=false ;;
  *)
    echo "::error title=redline action::input sarif must be true or false, not '${sarif_input}'"
    exit 2
    ;;
esac

paths=()
while IFS= read -r line || [[ -n $line ]]; do
  line=${line%$'\r'}
  # Leading and trailing blanks are dropped (YAML block scalars keep indentation).
  line=${line#"${line%%[![:space:]]*}"}
  line=${line%"${line##*[![:space:]]}"}
  if [[ -n $line ]]; then paths+=("$line"); fi
done <<<"${REDLINE_PATHS:-.}"
((${#paths[@]})) || paths=(.)

args=(lint --fail-on "$fail_on")
if [[ -n ${REDLINE_CONFIG:-} ]]; then args+=(--config "$REDLINE_CONFIG"); fi

out=${RUNNER_TEMP:?RUNNER_TEMP is not set}
annotations=$out/redline.github.txt
summary=$out/redline.md

# One run of redline; its status in $status. `--` ends the options: a path is never read as
# one.
run() {
  status=0
  redline "${args[@]}" "$@" -- "${paths[@]}" || status=$?
  if ((status > 1)); then
    echo "::error title=redline action::redline lint exited with status $status (its message is above)"
    exit "$status"
  fi
}

run --format github --output "$annotations"
cat "$annotations"
findings=$(grep -c '^::' "$annotations" || true)

run --format markdown --output "$summary"
cat "$summary" >>"${GITHUB_STEP_SUMMARY:?GITHUB_STEP_SUMMARY is not set}"

sarif_file=
if [[ $sarif == true ]]; then
  sarif_file=$out/redline.sarif
  run --format sarif --output "$sarif_file"
fi

# The multi-line form with a random delimiter, as GitHub's docs advise for any value.
delimiter=redline_$RANDOM$RANDOM$RANDOM
{
  echo "findings=$findings"
  echo "sarif<<$delimiter"
  echo "$sarif_file"
  echo "$delimiter"
} >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"

if ((status == 1)); then
  echo "redline: failing the step: a finding at or above '$fail_on', or a document that does not load"
fi
exit "$status"
