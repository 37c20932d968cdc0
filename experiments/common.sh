# Sourced by the experiments' scripts after they set $here (their folder) and $cli (the CLI path
# given or the default build/app/preflab-cli). enter_repository sets $root, makes $cli absolute
# (a relative path is taken from the caller's folder when it exists there, else from the
# repository root), exits 2 when it is not an executable, and moves to the repository root.
enter_repository() {
  root=$(cd "$here/../.." && pwd)
  if [[ "$cli" != /* ]]; then
    if [[ -x "$PWD/$cli" ]]; then cli="$PWD/$cli"; else cli="$root/$cli"; fi
  fi
  if [[ ! -x "$cli" ]]; then
    echo "$(basename "$0"): CLI not found or not executable: $cli (build it, or pass its path)" >&2
    exit 2
  fi
  cd "$root" || exit 2
}
