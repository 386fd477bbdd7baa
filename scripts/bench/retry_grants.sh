# shellcheck shell=bash
# retry_grants_toml SYNCHRONOUS: the [retry] config of the retry benchmarks
# (scripts/bench.sh's retry section, scripts/bench/callgrind.sh's
# ReserveRetrySlot): no throttling and a cap no run reaches, so every call
# is a durable grant.
retry_grants_toml() {
  cat <<TOML
[retry]
synchronous = "$1"
budget_percent = 100
min_retry_concurrency = 1000000
[retry.policy.default]
max_attempts = 1000000
base_delay = "0"
max_delay = "0"
TOML
}
