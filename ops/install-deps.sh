#!/usr/bin/env bash
# Installs the system packages Nzila needs on Debian 12, only when something is missing.
set -euo pipefail
packages=(postgresql-15 postgresql-client-15 pgbouncer libargon2-dev openssl pkg-config "$@")
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's packages start their own services; Nzila runs private instances instead.
if [ "$(id -u)" = 0 ] && command -v systemctl >/dev/null 2>&1; then systemctl disable --now pgbouncer >/dev/null 2>&1 || true; fi
exit 0
