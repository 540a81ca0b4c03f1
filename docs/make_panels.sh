#!/usr/bin/env bash
# Regenerates the README's panel pictures (docs/panels/*.png) from the demo run.
# Usage: bash docs/make_panels.sh   (from the repository root, in the project's venv)
set -euo pipefail
out=docs/panels
hist=$(mktemp -d)/sin.history.npz
python render.py configs/sin.yaml --out "${hist%.history.npz}.png" --quiet >/dev/null
common=(--quiet --set "render.size=[480,360]" --set render.poster=40 --set render.title=)
python render.py "$hist" --out $out/fit.png "${common[@]}" --set "render.panels=[fit]"
python render.py "$hist" --out $out/fit_loss.png "${common[@]}" --set "render.panels=[fit,loss]"
python render.py "$hist" --out $out/fit_loss_params.png "${common[@]}" --set "render.panels=[fit,loss,params]" --set render.trail=4
python render.py "$hist" --out $out/dark.png "${common[@]}" --set "render.panels=[fit,loss,params]" --set render.theme=dark
python render.py "$hist" --out $out/transparent.png "${common[@]}" --set "render.panels=[fit,loss]" --set render.theme=transparent
python render.py "$hist" --out $out/filmstrip.png --quiet --set "render.size=[240,180]" --set render.filmstrip=6 --set "render.panels=[fit]" --set render.title=
ls -l $out
