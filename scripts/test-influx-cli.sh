#!/usr/bin/env bash
# The real `influx` CLI 1.6.7 (Debian's `influxdb-client`) against a server at HOST:PORT:
# CREATE DATABASE clitest, -import of a file with # DDL / # DML sections, INSERT through
# -execute, then queries in the json, csv and column formats, with -precision rfc3339 and ms.
# Every step's exit status and standard output are compared with what the CLI printed against
# InfluxDB 1.6.7 itself; the first mismatch stops the run with a diff and a non-zero exit.
# Every step is idempotent, so the script can run again against the same server.
#
#   scripts/test-influx-cli.sh 127.0.0.1:8086
#   RECORD=1 scripts/test-influx-cli.sh 127.0.0.1:8086   # print each step's output, check nothing
#
# Credentials, if the server wants them: INFLUX_USERNAME / INFLUX_PASSWORD (read by influx itself).
set -euo pipefail
ADDR=${1:?usage: scripts/test-influx-cli.sh HOST:PORT}
HOST=${ADDR%:*}
PORT=${ADDR##*:}
[ "$HOST" != "$ADDR" ] || { echo "usage: scripts/test-influx-cli.sh HOST:PORT" >&2; exit 2; }

if ! command -v influx >/dev/null; then
  echo "==> apt-get install influxdb-client (influx 1.6.7)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq influxdb-client >/dev/null
fi
echo "==> $(influx -version) against $HOST:$PORT"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# check NAME WANT_EXIT INFLUX_ARGS... <<'EOF' expected standard output EOF
# Runs influx with the arguments; compares exit status and standard output (log timestamps of
# -import stripped; trailing newlines ignored). Standard error is only shown on a mismatch.
check() {
  local name=$1 want_rc=$2 want got rc=0
  shift 2
  want=$(cat)
  got=$(influx -host "$HOST" -port "$PORT" "$@" 2>"$WORK/stderr") || rc=$?
  got=$(printf '%s\n' "$got" | sed -E 's#^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} ##')
  if [ "${RECORD:-0}" = 1 ]; then
    printf '### %s (exit %s)\n%s\n' "$name" "$rc" "$got"
    return
  fi
  if [ "$rc" != "$want_rc" ] || [ "$got" != "$want" ]; then
    {
      echo "FAIL: $name"
      printf 'command: influx -host %s -port %s' "$HOST" "$PORT"; printf ' %q' "$@"; echo
      echo "exit status: $rc (expected $want_rc)"
      echo "--- expected stdout (InfluxDB 1.6.7)"; echo "+++ actual stdout"
      diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") || true
      echo "stderr:"; cat "$WORK/stderr"
    } >&2
    exit 1
  fi
  echo "ok   $name"
}

cat > "$WORK/import.txt" <<'EOF'
# DDL
CREATE DATABASE clitest

# DML
# CONTEXT-DATABASE: clitest
# CONTEXT-RETENTION-POLICY: autogen
cpu,host=server01,region=us-east usage_user=12.5,usage_system=3.25,procs=120i 1767225600000000000
cpu,host=server02,region=us-west usage_user=47.75,usage_system=8.5,procs=98i 1767225660000000000
cpu,host=server01,region=us-east usage_user=20,usage_system=4.75,procs=131i 1767225720000000000
cpu,host=server02,region=us-west usage_user=51.25,usage_system=9,procs=101i 1767226200000000000
cpu,host=server01,region=us-east usage_user=18.5,usage_system=5.5,procs=127i 1767226260000000000
events,source=app message="deploy \"v2\" done",ok=true 1767225630000000000
EOF

check "CREATE DATABASE" 0 -execute 'CREATE DATABASE clitest' <<'EOF'
EOF

check "-import (# DDL / # DML, CONTEXT-DATABASE)" 0 -import -path "$WORK/import.txt" -precision ns <<'EOF'
Processed 1 commands
Processed 6 inserts
Failed 0 inserts
EOF

check "INSERT through -execute" 0 -database clitest \
  -execute 'INSERT cpu,host=server03,region=eu-central usage_user=33.5,usage_system=1.5,procs=77i 1767226800000000000' <<'EOF'
EOF

# SHOW DATABASES: other databases may exist on the server, so only the clitest line is checked.
if [ "${RECORD:-0}" != 1 ]; then
  influx -host "$HOST" -port "$PORT" -execute 'SHOW DATABASES' -format csv 2>&1 | grep -qx 'databases,clitest' \
    || { echo "FAIL: SHOW DATABASES -format csv has no line 'databases,clitest'" >&2; exit 1; }
  echo "ok   SHOW DATABASES lists clitest"
fi

check "SELECT -format json" 0 -database clitest -execute 'SELECT * FROM cpu' -format json <<'EOF'
{"results":[{"series":[{"name":"cpu","columns":["time","host","procs","region","usage_system","usage_user"],"values":[[1767225600000000000,"server01",120,"us-east",3.25,12.5],[1767225660000000000,"server02",98,"us-west",8.5,47.75],[1767225720000000000,"server01",131,"us-east",4.75,20],[1767226200000000000,"server02",101,"us-west",9,51.25],[1767226260000000000,"server01",127,"us-east",5.5,18.5],[1767226800000000000,"server03",77,"eu-central",1.5,33.5]]}]}]}
EOF

check "SELECT -format json, string field, -precision rfc3339" 0 -database clitest \
  -execute 'SELECT * FROM events' -format json -precision rfc3339 <<'EOF'
{"results":[{"series":[{"name":"events","columns":["time","message","ok","source"],"values":[["2026-01-01T00:00:30Z","deploy \"v2\" done",true,"app"]]}]}]}
EOF

check "GROUP BY host -format json" 0 -database clitest \
  -execute 'SELECT max(usage_user) FROM cpu GROUP BY host' -format json <<'EOF'
{"results":[{"series":[{"name":"cpu","tags":{"host":"server01"},"columns":["time","max"],"values":[[1767225720000000000,20]]}]},{"series":[{"name":"cpu","tags":{"host":"server02"},"columns":["time","max"],"values":[[1767226200000000000,51.25]]}]},{"series":[{"name":"cpu","tags":{"host":"server03"},"columns":["time","max"],"values":[[1767226800000000000,33.5]]}]}]}
EOF

check "SHOW MEASUREMENTS -format json -pretty" 0 -database clitest \
  -execute 'SHOW MEASUREMENTS' -format json -pretty <<'EOF'
{
    "results": [
        {
            "series": [
                {
                    "name": "measurements",
                    "columns": [
                        "name"
                    ],
                    "values": [
                        [
                            "cpu"
                        ],
                        [
                            "events"
                        ]
                    ]
                }
            ]
        }
    ]
}
EOF

check "SELECT -format csv" 0 -database clitest -execute 'SELECT * FROM cpu' -format csv <<'EOF'
name,time,host,procs,region,usage_system,usage_user
cpu,1767225600000000000,server01,120,us-east,3.25,12.5
cpu,1767225660000000000,server02,98,us-west,8.5,47.75
cpu,1767225720000000000,server01,131,us-east,4.75,20
cpu,1767226200000000000,server02,101,us-west,9,51.25
cpu,1767226260000000000,server01,127,us-east,5.5,18.5
cpu,1767226800000000000,server03,77,eu-central,1.5,33.5
EOF

check "GROUP BY host -format csv" 0 -database clitest \
  -execute 'SELECT count(usage_user) FROM cpu GROUP BY host' -format csv <<'EOF'
name,tags,time,count
cpu,host=server01,0,3
name,tags,time,count
cpu,host=server02,0,2
name,tags,time,count
cpu,host=server03,0,1
EOF

check "-precision ms -format csv" 0 -database clitest \
  -execute "SELECT usage_user FROM cpu WHERE host = 'server02'" -precision ms -format csv <<'EOF'
name,time,usage_user
cpu,1767225660000,47.75
cpu,1767226200000,51.25
EOF

check "SELECT (column format)" 0 -database clitest -execute 'SELECT * FROM cpu' <<'EOF'
name: cpu
time                host     procs region     usage_system usage_user
----                ----     ----- ------     ------------ ----------
1767225600000000000 server01 120   us-east    3.25         12.5
1767225660000000000 server02 98    us-west    8.5          47.75
1767225720000000000 server01 131   us-east    4.75         20
1767226200000000000 server02 101   us-west    9            51.25
1767226260000000000 server01 127   us-east    5.5          18.5
1767226800000000000 server03 77    eu-central 1.5          33.5
EOF

check "SELECT -precision rfc3339 (column format)" 0 -database clitest \
  -execute 'SELECT * FROM cpu' -precision rfc3339 <<'EOF'
name: cpu
time                 host     procs region     usage_system usage_user
----                 ----     ----- ------     ------------ ----------
2026-01-01T00:00:00Z server01 120   us-east    3.25         12.5
2026-01-01T00:01:00Z server02 98    us-west    8.5          47.75
2026-01-01T00:02:00Z server01 131   us-east    4.75         20
2026-01-01T00:10:00Z server02 101   us-west    9            51.25
2026-01-01T00:11:00Z server01 127   us-east    5.5          18.5
2026-01-01T00:20:00Z server03 77    eu-central 1.5          33.5
EOF

check 'SHOW TAG VALUES WITH KEY = "host"' 0 -database clitest -execute 'SHOW TAG VALUES WITH KEY = "host"' <<'EOF'
name: cpu
key  value
---  -----
host server01
host server02
host server03
EOF

check "GROUP BY time(10m)" 0 -database clitest -precision rfc3339 \
  -execute "SELECT mean(usage_user), max(procs) FROM cpu WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:40:00Z' GROUP BY time(10m)" <<'EOF'
name: cpu
time                 mean   max
----                 ----   ---
2026-01-01T00:00:00Z 26.75  131
2026-01-01T00:10:00Z 34.875 127
2026-01-01T00:20:00Z 33.5   77
2026-01-01T00:30:00Z        
EOF

check "GROUP BY time(10m), host fill(0)" 0 -database clitest -precision rfc3339 \
  -execute 'SELECT count(usage_user) FROM cpu WHERE time >= 1767225600s AND time < 1767227400s GROUP BY time(10m), host fill(0)' <<'EOF'
name: cpu
tags: host=server01
time                 count
----                 -----
2026-01-01T00:00:00Z 2
2026-01-01T00:10:00Z 1
2026-01-01T00:20:00Z 0

name: cpu
tags: host=server02
time                 count
----                 -----
2026-01-01T00:00:00Z 1
2026-01-01T00:10:00Z 1
2026-01-01T00:20:00Z 0

name: cpu
tags: host=server03
time                 count
----                 -----
2026-01-01T00:00:00Z 0
2026-01-01T00:10:00Z 0
2026-01-01T00:20:00Z 1
EOF

check "two statements in one -execute" 0 -database clitest -precision rfc3339 \
  -execute "SELECT usage_user FROM cpu WHERE host = 'server01'; SELECT count(procs) FROM cpu" <<'EOF'
name: cpu
time                 usage_user
----                 ----------
2026-01-01T00:00:00Z 12.5
2026-01-01T00:02:00Z 20
2026-01-01T00:11:00Z 18.5

name: cpu
time                 count
----                 -----
1970-01-01T00:00:00Z 6
EOF

check "SHOW FIELD KEYS and SHOW SERIES" 0 -database clitest -execute 'SHOW FIELD KEYS FROM cpu; SHOW SERIES' <<'EOF'
name: cpu
fieldKey     fieldType
--------     ---------
procs        integer
usage_system float
usage_user   float

key
---
cpu,host=server01,region=us-east
cpu,host=server02,region=us-west
cpu,host=server03,region=eu-central
events,source=app
EOF

check "parse error: ERR and exit 1" 1 -database clitest -execute 'SELEC 1' <<'EOF'
ERR: error parsing query: found SELEC, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 1
EOF

check "no database: ERR, hint and exit 1" 1 -execute 'SELECT * FROM cpu' <<'EOF'
ERR: database name required
Warning: It is possible this error is due to not setting a database.
Please set a database with the command "use <database>".
EOF

[ "${RECORD:-0}" = 1 ] || echo "influx CLI: all steps match InfluxDB 1.6.7"
