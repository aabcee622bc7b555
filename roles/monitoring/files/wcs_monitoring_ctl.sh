#!/bin/sh
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Background processes with pidfiles, for hosts without systemd as PID 1 (labs, CI containers):
# wcs_monitoring_service_manager=none in the monitoring role.
#
#   wcs_monitoring_ctl.sh start   PIDFILE LOGFILE CPUS -- COMMAND [ARGS...]
#   wcs_monitoring_ctl.sh restart PIDFILE LOGFILE CPUS -- COMMAND [ARGS...]
#   wcs_monitoring_ctl.sh stop    PIDFILE
#   wcs_monitoring_ctl.sh reload  PIDFILE            (SIGHUP, e.g. Prometheus re-reads its configuration)
#   wcs_monitoring_ctl.sh status  PIDFILE
#
# start is idempotent: a live process whose command line equals COMMAND [ARGS...] is left alone ("unchanged");
# a live process with another command line is replaced ("restarted"). CPUS (e.g. "0,20"; "" = no pinning) pins
# the process with taskset, so it runs on the host's reserved cores and never on a WCS container's.
# The first word of stdout is what happened: started | restarted | unchanged | stopped | absent | reloaded.
# Only the process named in the pidfile is ever signalled, and only when it is still ours: its /proc/<pid>/cmdline
# must equal the command recorded next to the pidfile at start (PIDFILE.cmd). A stale pidfile whose pid now
# belongs to another process is removed, never signalled. (A pidfile of 1.0.0 has no PIDFILE.cmd: its process
# counts as ours only when its command line names prometheus or wcs_exporter.py.)
set -eu

die() { echo "wcs_monitoring_ctl: $*" >&2; exit 2; }

cmdline_of() { tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null; }

ours() { # pid pidfile -> true when the process runs the command recorded at start
  if [ -f "$2.cmd" ]; then
    [ "$(cmdline_of "$1")" = "$(cat "$2.cmd")" ]
  else
    cmdline_of "$1" | grep -Eq 'prometheus|wcs_exporter\.py'
  fi
}

alive() { # pidfile -> pid on stdout when that process lives and is ours; a stale pidfile is removed
  [ -f "$1" ] || return 1
  pid=$(tr -dc 0-9 <"$1")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ours "$pid" "$1"; then echo "$pid"; return 0; fi
  rm -f "$1" "$1.cmd"
  return 1
}

stop_pid() { # pid pidfile
  kill -TERM "$1" 2>/dev/null || true
  i=0
  while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  if kill -0 "$1" 2>/dev/null; then kill -KILL "$1" 2>/dev/null || true; sleep 0.2; fi
  rm -f "$2" "$2.cmd"
}

start() { # pidfile logfile cpus cmd...
  pidfile=$1 logfile=$2 cpus=$3; shift 3
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  printf '%s\n' "$@" >"$pidfile.cmd"  # what /proc/<pid>/cmdline reads once taskset has exec'd the program
  if [ -n "$cpus" ]; then set -- taskset -c "$cpus" "$@"; fi
  # setsid: the process outlives the Ansible task that started it; taskset execs the command, so the pid
  # recorded is the program's own.
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  sleep 0.3
  kill -0 "$(cat "$pidfile")" 2>/dev/null || { rm -f "$pidfile" "$pidfile.cmd"; tail -n 20 "$logfile" >&2; die "exited at once: $*"; }
}

action=${1:-}; [ $# -ge 2 ] || die "usage: $0 start|restart|stop|reload|status PIDFILE ..."
pidfile=$2
case $action in
  start|restart)
    if [ $# -lt 6 ] || [ "$5" != "--" ]; then die "usage: $0 $action PIDFILE LOGFILE CPUS -- COMMAND [ARGS...]"; fi
    logfile=$3 cpus=$4; shift 5
    want=$(printf '%s\n' "$@")
    if pid=$(alive "$pidfile"); then
      if [ "$action" = start ] && [ "$(cmdline_of "$pid")" = "$want" ]; then echo "unchanged $pid"; exit 0; fi
      stop_pid "$pid" "$pidfile"
      start "$pidfile" "$logfile" "$cpus" "$@"; echo "restarted $(cat "$pidfile")"
    else
      start "$pidfile" "$logfile" "$cpus" "$@"; echo "started $(cat "$pidfile")"
    fi
    ;;
  stop)
    if pid=$(alive "$pidfile"); then stop_pid "$pid" "$pidfile"; echo "stopped $pid"; else echo absent; fi
    ;;
  reload)
    if pid=$(alive "$pidfile"); then kill -HUP "$pid"; echo "reloaded $pid"; else echo absent; fi
    ;;
  status)
    if pid=$(alive "$pidfile"); then echo "running $pid"; else echo absent; exit 3; fi
    ;;
  *) die "unknown action $action" ;;
esac
