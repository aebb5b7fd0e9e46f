#!/bin/sh
# Temporal's two databases on PostgreSQL, made (first time) and brought up to the schema of the
# temporal-sql-tool that runs this — what the retired auto-setup image did, and nothing else.
# Every step is idempotent (an existing database/schema is left as it is), so it may run on each
# `docker compose up`. Run by docker-compose.yml's one-shot `temporal-schema` service and by
# src/temporal/cluster.ts (tests, `fluxburst server --cluster`): one script for both.
#
# Env: FB_PG_HOST FB_PG_PORT FB_PG_USER FB_PG_PASSWORD; TEMPORAL_SQL_TOOL (default: on PATH)
set -eu
tool=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}
for pair in temporal:postgresql/v12/temporal temporal_visibility:postgresql/v12/visibility; do
  db=${pair%%:*}
  schema=${pair#*:}
  set -- --plugin postgres12 --ep "${FB_PG_HOST:-127.0.0.1}" -p "${FB_PG_PORT:-5432}" -u "${FB_PG_USER:-temporal}" --pw "${FB_PG_PASSWORD:-temporal}" --db "$db"
  "$tool" "$@" create-database
  "$tool" "$@" setup-schema -v 0.0
  # The schema embedded in temporal-sql-tool, so the tool's version is the schema's version.
  "$tool" "$@" update-schema --schema-name "$schema"
  echo "database $db: schema $schema up to date"
done
