#!/usr/bin/env bash
# Single-node Slurm on this machine without systemd (Debian 12): slurmctld + slurmd + munge, for
# the training end-to-end test. Idempotent: installs only missing packages, reuses running daemons.
# Usage: scripts/slurm-localhost-up.sh BASE [--with-dbd]
#   BASE/slurm.conf, BASE/{state,spool,log}, daemons' PIDs in BASE/*.pid. Prints SLURM_CONF=… last.
#   --with-dbd adds slurmdbd + MariaDB so sacct works (≈30 s more); without it final states come
#   from `scontrol show job` (kept MinJobAge seconds) and the jobs' own exit-status files.
set -euo pipefail
BASE=${1:?usage: slurm-localhost-up.sh BASE [--with-dbd]}; WITH_DBD=${2:-}
mkdir -p "$BASE"; BASE=$(cd "$BASE" && pwd)
T0=$(date +%s%N)
PKGS="slurmctld slurmd slurm-client munge"
[ "$WITH_DBD" = "--with-dbd" ] && PKGS="$PKGS slurmdbd mariadb-server"
missing=$(for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
fi
T1=$(date +%s%N)
export SLURM_CONF=$BASE/slurm.conf
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if alive "$BASE/slurmctld.pid" && alive "$BASE/slurmd.pid"; then
  echo "slurm already running in $BASE"
else
  mkdir -p "$BASE"/{state,spool,log}
  HOST=$(hostname -s)
  # CPUs / memory as slurmd sees them (RealMemory a bit lower so the node is never drained for "low memory")
  read -r CPUS MEM < <(slurmd -C | awk '/NodeName/{for(i=1;i<=NF;i++){split($i,a,"="); if(a[1]=="CPUs")c=a[2]; if(a[1]=="RealMemory")m=a[2]} print c, int(m*0.9)}')
  if [ "$WITH_DBD" = "--with-dbd" ]; then
    ACCT="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux"
  else
    ACCT="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
  fi
  cat > "$SLURM_CONF" <<CONF
ClusterName=local
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/slurmctld.pid
SlurmdPidFile=$BASE/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
$ACCT
JobCompType=jobcomp/filetxt
JobCompLoc=$BASE/log/jobcomp.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
ReturnToService=2
MpiDefault=none
KillWait=5
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF

  # munge: the package's postinst creates the key; make one if absent
  [ -s /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
  if ! munge -n >/dev/null 2>&1; then runuser -u munge -- /usr/sbin/munged; touch "$BASE/munged.started"; fi
  for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done

  if [ "$WITH_DBD" = "--with-dbd" ]; then
    mkdir -p "$BASE/mysql" "$BASE/mysqlrun"; chown mysql:mysql "$BASE/mysql" "$BASE/mysqlrun"
    [ -d "$BASE/mysql/mysql" ] || mariadb-install-db --user=mysql --datadir="$BASE/mysql" >"$BASE/log/mysql_install.log" 2>&1
    nohup /usr/sbin/mariadbd --user=mysql --datadir="$BASE/mysql" --socket="$BASE/mysqlrun/mysql.sock" \
      --pid-file="$BASE/mysqlrun/mysql.pid" --port=3306 --bind-address=127.0.0.1 --log-error="$BASE/mysqlrun/mysql.err" >/dev/null 2>&1 &
    for _ in $(seq 100); do mariadb -S "$BASE/mysqlrun/mysql.sock" -e 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
    mariadb -S "$BASE/mysqlrun/mysql.sock" -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurmpw'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"
    cat > "$BASE/slurmdbd.conf" <<CONF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
LogFile=$BASE/log/slurmdbd.log
PidFile=$BASE/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=3306
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=slurmpw
CONF
    chmod 600 "$BASE/slurmdbd.conf"
    SLURM_CONF=$BASE/slurm.conf /usr/sbin/slurmdbd
    for _ in $(seq 100); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.2; done
    sacctmgr -i add cluster local >/dev/null 2>&1 || true
  fi

  alive "$BASE/slurmctld.pid" || /usr/sbin/slurmctld
  alive "$BASE/slurmd.pid" || /usr/sbin/slurmd
fi
for _ in $(seq 150); do sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mix|alloc' && break; sleep 0.2; done
sinfo -h -o '%P %a %D %T' | grep -qE 'idle|mix|alloc' || { echo "slurm node did not come up; see $BASE/log" >&2; exit 1; }
T2=$(date +%s%N)
echo "slurm up: apt $(( (T1-T0)/1000000 )) ms, config+daemons $(( (T2-T1)/1000000 )) ms"
echo "SLURM_CONF=$SLURM_CONF"
