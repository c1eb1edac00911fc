#!/usr/bin/env bash
# Coordo's two commands. Needs only python3 (>= 3.11).
#   ./dev.sh start   install, create the SQLite database with demo data, serve on 127.0.0.1:8000
#   ./dev.sh test    install with the test tools (and axe-core with npm), lint (ruff, import layers),
#                    run the whole test suite (on SQLite, or on PostgreSQL when DATABASE_URL points to one)
#   ./dev.sh serve   production start: collect static files, migrate, cache table, gunicorn
#                    (settings from the environment: docs/deploy.md)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

install() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
      echo "Coordo needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version))." >&2; exit 1; }
    "$PYTHON" -m venv "$VENV"
  fi
  # The versions CI tested, pinned by requirements.lock (regenerate: docs/deploy.md). Skipped
  # when the lock and pyproject.toml have not changed since the last install with these extras
  # (or with the test tools): a second run starts at once, and two runs at once (CI's SQLite
  # and PostgreSQL suites) never reinstall under each other.
  local wanted stamp="$VENV/installed"
  wanted="$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-64)"
  if [ -f "$stamp" ] && { [ "$(cat "$stamp")" = "$wanted $1" ] || [ "$(cat "$stamp")" = "$wanted [dev]" ]; }; then
    return
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c requirements.lock -e ".$1"
  echo "$wanted $1" > "$stamp"
}

case "${1:-}" in
  start)
    install ""
    "$VENV/bin/python" manage.py migrate --noinput -v 0
    "$VENV/bin/python" manage.py seed_demo
    "$VENV/bin/python" manage.py seed_demo --region
    cat <<'MSG'

Coordo est prêt : http://127.0.0.1:8000/
Identifiants de démonstration (mot de passe pour tous : coordo-demo)
  coordinatrice      coordonnatrice santé du CLS et du CLSM
  elue               adjointe au maire, COPIL des deux dispositifs
  copil.ars          ARS, COPIL du CLS          copil.epsm   EPSM, COPIL du CLSM
  financeur.ars      financeur ARS (et financeur.ville, .agglo, .prefecture, .cpam, ...)
  porteur.ccas       porteuse d'action (CCAS)   membre.gt    membre des groupes de travail
  referent.ars       référente ARS (lecture)    cotech       comité technique
  departement        Département, financeur des 12 dispositifs (vue du territoire)
  admin              administration (http://127.0.0.1:8000/admin/)
Arrêt : Ctrl+C
MSG
    exec "$VENV/bin/python" manage.py runserver 127.0.0.1:8000
    ;;
  test)
    install "[dev]"
    # axe-core for the accessibility test (tests/browser/test_accessibility.py), the version
    # package-lock.json pins; without npm that test fails and says so.
    if [ ! -f node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null 2>&1; then
      npm ci --silent --no-audit --no-fund
    fi
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/lint-imports" --no-cache --no-logo
    "$VENV/bin/python" manage.py makemigrations --check --dry-run -v 0
    exec "$VENV/bin/python" -m pytest "${@:2}"
    ;;
  serve)
    install ""
    "$VENV/bin/python" manage.py collectstatic --noinput -v 0
    "$VENV/bin/python" manage.py migrate --noinput -v 0
    "$VENV/bin/python" manage.py createcachetable
    exec "$VENV/bin/gunicorn" config.wsgi --bind "${BIND:-127.0.0.1:8000}" \
      --workers "${WORKERS:-4}" --timeout "${TIMEOUT:-60}" --access-logfile - \
      --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}"
    ;;
  *)
    echo "usage: ./dev.sh start | ./dev.sh test [pytest options] | ./dev.sh serve" >&2
    exit 2
    ;;
esac
