#!/usr/bin/env bash
# Copied unchanged from ../shared/reference/local-slurm/ (the project's reference); used by .ci/run and `make slurm-up`.
# stop-local-slurm.sh - stop the daemons started by start-local-slurm.sh, by PID
# file only (never by name). `--purge` also deletes state, DB, logs and configs.
set -uo pipefail
ROOT=${SLURM_TEST_ROOT:-/tmp/slurmtest}

stop_pidfile() {  # stop_pidfile NAME PIDFILE
  local name=$1 f=$2 pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    echo "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "  $name still alive, SIGKILL"; kill -9 "$pid" 2>/dev/null; fi
  fi
  rm -f "$f"
}

# cancel anything still queued/running so slurmd does not leave job processes behind
if [ -s "$ROOT/run/slurmctld.pid" ] && kill -0 "$(cat "$ROOT/run/slurmctld.pid")" 2>/dev/null; then
  scancel --quiet --user=root 2>/dev/null || true
  [ -n "${SUDO_USER:-}" ] && scancel --quiet --user="$SUDO_USER" 2>/dev/null || true
  sleep 1
fi
stop_pidfile slurmd    "$ROOT/run/slurmd.pid"
stop_pidfile slurmctld "$ROOT/run/slurmctld.pid"
stop_pidfile slurmdbd  "$ROOT/run/slurmdbd.pid"
stop_pidfile mariadbd  "$ROOT/run/mysqld.pid"
# munged was started with the Debian default pid file
stop_pidfile munged    /run/munge/munged.pid

if [ "${1:-}" = "--purge" ]; then
  echo "purging $ROOT/{etc,state,spool,log,run,mysql}"
  rm -rf "$ROOT"/{etc,state,spool,log,run,mysql}
  for f in /etc/slurm/slurm.conf /etc/slurm/slurmdbd.conf; do
    [ -L "$f" ] && case "$(readlink "$f")" in "$ROOT"/*) rm -f "$f";; esac
  done
fi
exit 0
