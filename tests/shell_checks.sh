# Shared by the shell tests (sourced): pass/fail counters, check NAME CONDITION..., contains FILE
# PATTERN, and finish, which prints the counts under a title and exits 1 on any failure.
failures=0
passes=0

check() { # check NAME CONDITION...
  local name="$1"; shift
  if "$@"; then passes=$((passes + 1)); echo "PASS $name"; else failures=$((failures + 1)); echo "FAIL $name"; fi
}
contains() { grep -q -- "$2" "$1"; }
finish() { # finish TITLE
  echo "$1: $passes passed, $failures failed"
  [ "$failures" -eq 0 ]
}
