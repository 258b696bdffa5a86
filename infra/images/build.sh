#!/usr/bin/env bash
# Build stand-in images for hosts that reach no container registry.
#
# They are made from Debian 12 packages (MariaDB 10.11, Redis 7.0) and behave like the
# official `mysql` and `redis` images for everything the acceptance harness uses:
# `redis-server <conf> <overrides>` as the command; MYSQL_ROOT_PASSWORD, root@'%',
# /docker-entrypoint-initdb.d/*.sql and port 3306 for MySQL.
#
# Usage: infra/images/build.sh [--force]
# Env:   STANDIN_MYSQL_IMAGE, STANDIN_REDIS_IMAGE (tags), DEBIAN_MIRROR (mmdebstrap mirror)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mysql_image=${STANDIN_MYSQL_IMAGE:-mindfulness-standin-mysql:mariadb-10.11}
redis_image=${STANDIN_REDIS_IMAGE:-mindfulness-standin-redis:7.0}
base_image=mindfulness-standin-base:bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
force=${1:-}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

if [[ "$force" != "--force" ]] && have_image "$mysql_image" && have_image "$redis_image"; then
  echo "stand-in images present: $mysql_image $redis_image"
  exit 0
fi

command -v mmdebstrap >/dev/null || { echo "build.sh: mmdebstrap not found (apt-get install -y mmdebstrap)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build.sh: no Docker engine reachable (start dockerd)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ "$force" == "--force" ]] || ! have_image "$base_image"; then
  echo "building root file system (mmdebstrap, about 20-60 s)"
  # One root file system for both images: built once, imported once.
  mmdebstrap --quiet --variant=apt --include=redis-server,mariadb-server \
    --dpkgopt='path-exclude=/usr/share/{doc,man,locale}/*' \
    bookworm "$work/rootfs.tar" "$mirror"
  docker import "$work/rootfs.tar" "$base_image" >/dev/null
fi

docker build --quiet --build-arg BASE="$base_image" -t "$mysql_image" "$here/mysql" >/dev/null
docker build --quiet --build-arg BASE="$base_image" -t "$redis_image" "$here/redis" >/dev/null
echo "built: $mysql_image $redis_image"
