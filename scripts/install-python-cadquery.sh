#!/usr/bin/env bash
# Installs real CadQuery (the oracle of test/cadquery-oracle/) into its own virtual environment at
# REPO/.venv-cadquery: cadquery 2.8.0 on cadquery-ocp (OpenCascade 7.9 for Python) and everything
# they pull in, each pinned to the version resolved on 2026-12 so that the oracle does not move.
# Idempotent: does nothing when the venv already holds exactly these versions.
#
# Its own venv, not .venv-pypi: CadQuery brings vtk, casadi, numba/llvmlite and scipy (≈1.8 GB
# installed, ≈50 s on this machine the first time) which the training recipes do not need, and
# pins that should not move with torch's. Override the location with GIFT_CADQUERY_VENV=/path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${GIFT_CADQUERY_VENV:-$root/.venv-cadquery}"

PINS=(
  cadquery==2.8.0
  cadquery-ocp==7.9.3.1.1
  cadquery-ocp-proxy==7.9.3.1.1
  aiohappyeyeballs==2.7.1
  aiohttp==3.14.5
  aiosignal==1.4.0
  attrs==26.1.0
  casadi==3.8.2
  contourpy==1.3.3
  cycler==0.12.1
  ezdxf==1.4.5
  fonttools==4.68.0
  frozenlist==1.8.0
  idna==3.20
  kiwisolver==1.5.1
  llvmlite==0.50.0
  matplotlib==3.11.2
  more-itertools==11.2.1
  msgpack==1.2.4
  multidict==7.2.1
  multimethod==1.12
  nlopt==2.11.0
  numba==0.68.1
  numpy==2.4.6
  packaging==26.4
  pillow==13.0.0
  propcache==0.5.4
  pyparsing==3.3.3
  python-dateutil==4.0.0
  PyYAML==6.0.4
  runtype==0.5.3
  scipy==1.17.1
  trame==4.0.0
  trame-client==4.1.4
  trame-common==1.2.9
  trame-components==2.5.0
  trame-server==4.1.0
  trame-vtk==2.11.17
  trame-vuetify==3.3.0
  typing_extensions==4.16.0
  tzdata==2026.6
  vtk==9.6.2
  wslink==2.6.0
  yarl==1.25.1
)

# Already there? (every pinned distribution at exactly its version)
check='import sys
from importlib.metadata import version, PackageNotFoundError
bad = []
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        have = None
    if have != want:
        bad.append(f"{name} {have} (want {want})")
if bad:
    print("; ".join(bad))
    sys.exit(1)'
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" "${PINS[@]}" >/dev/null 2>&1; then
  echo "$venv already has cadquery 2.8.0 (${#PINS[@]} pins)"
  exit 0
fi

py="${GIFT_CADQUERY_PYTHON:-}"
if [ -z "$py" ]; then
  for candidate in python3.11 python3.12 python3.13; do
    if command -v "$candidate" >/dev/null 2>&1; then py="$candidate"; break; fi
  done
fi
if [ -z "$py" ]; then
  echo "install-python-cadquery: needs python3.11 (or 3.12/3.13) on PATH (or GIFT_CADQUERY_PYTHON=…)" >&2
  exit 1
fi

started=$(date +%s)
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
# git ignores the venv's contents without an entry in the repository's .gitignore.
[ -f "$venv/.gitignore" ] || printf '# created by scripts/install-python-cadquery.sh\n*\n' >"$venv/.gitignore"
"$venv/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check "${PINS[@]}"
"$venv/bin/python" -c "$check" "${PINS[@]}"
"$venv/bin/python" -c 'import cadquery as cq; v = cq.Workplane().box(1, 2, 3).val().Volume(); assert abs(v - 6) < 1e-9, v; print("cadquery", cq.__version__)'
echo "install-python-cadquery: $venv ready in $(( $(date +%s) - started )) s ($(du -sh "$venv" | cut -f1))"
