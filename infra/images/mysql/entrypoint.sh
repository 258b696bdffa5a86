#!/bin/sh
# Like the official image's entrypoint: `docker-entrypoint.sh [mysqld|mariadbd] [--server-options]`
# initialises an empty data directory, then starts the server with an init file that sets the root
# password and runs /docker-entrypoint-initdb.d/*.sql before the first client connects.
# Any other command is run as it is.
set -eu
[ "$#" -eq 0 ] && set -- mariadbd
case "$1" in
  mariadbd|mysqld) shift ;;
  -*) ;;
  *) exec "$@" ;;
esac

: "${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD must be set}"
datadir=/var/lib/mysql
mkdir -p /run/mysqld "$datadir"

if [ ! -d "$datadir/mysql" ]; then
  mariadb-install-db --user=root --datadir="$datadir" --skip-test-db \
    --auth-root-authentication-method=normal >/dev/null
fi

sql_quote() { printf "%s" "$1" | sed "s/'/''/g"; }
init=/run/mysqld/init.sql
{
  pw=$(sql_quote "$MYSQL_ROOT_PASSWORD")
  echo "CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '$pw';"
  echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$pw';"
  echo "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"
  if [ -n "${MYSQL_DATABASE:-}" ]; then
    echo "CREATE DATABASE IF NOT EXISTS \`$MYSQL_DATABASE\`;"
  fi
  if [ -n "${MYSQL_USER:-}" ] && [ "${MYSQL_USER}" != root ]; then
    echo "CREATE USER IF NOT EXISTS '$MYSQL_USER'@'%' IDENTIFIED BY '$(sql_quote "${MYSQL_PASSWORD:-}")';"
    [ -n "${MYSQL_DATABASE:-}" ] && echo "GRANT ALL ON \`$MYSQL_DATABASE\`.* TO '$MYSQL_USER'@'%';"
  fi
  for f in /docker-entrypoint-initdb.d/*.sql; do
    [ -f "$f" ] && cat "$f" && echo
  done
} > "$init"

exec mariadbd "$@" --user=root --datadir="$datadir" --bind-address=0.0.0.0 --port=3306 \
  --skip-name-resolve --init-file="$init"
