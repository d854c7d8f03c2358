# InfluxDB 1.6.7 (Debian's `influxdb`) for the scripts that compare against it; sourced.
#
#   start_influxd DIR HTTP_PORT RPC_PORT [EXTRA_DATA_SETTING…]   → sets INFLUX to its pid
#
# Installs the package if `influxd` is missing; the server keeps everything under DIR,
# listens on 127.0.0.1 only, and has reporting, monitoring and continuous queries off.
start_influxd() {
  local dir=$1 http=$2 rpc=$3 setting
  shift 3
  if ! command -v influxd >/dev/null; then
    echo "==> apt-get install influxdb (InfluxDB 1.6.7)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq influxdb >/dev/null
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  {
    echo 'reporting-disabled = true'
    echo "bind-address = \"127.0.0.1:$rpc\""
    echo '[meta]'
    echo "  dir = \"$dir/meta\""
    echo '[data]'
    echo "  dir = \"$dir/data\""
    echo "  wal-dir = \"$dir/wal\""
    echo '  query-log-enabled = false'
    for setting in "$@"; do echo "  $setting"; done
    echo '[monitor]'
    echo '  store-enabled = false'
    echo '[http]'
    echo "  bind-address = \"127.0.0.1:$http\""
    echo '  log-enabled = false'
    echo '[continuous_queries]'
    echo '  enabled = false'
  } > "$dir/influxdb.conf"
  influxd -config "$dir/influxdb.conf" > "$dir/log" 2>&1 &
  INFLUX=$!
}
