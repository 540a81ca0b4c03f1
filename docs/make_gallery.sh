#!/usr/bin/env bash
# Regenerates the README's gallery (docs/gallery/*.gif): each example config
# trained and rendered at 320x240 with the small GIF palette (the races: medium). Fails if a GIF
# is 300 KB or more (they are committed).
# Usage: bash docs/make_gallery.sh   (from the repository root, in the project's venv)
set -euo pipefail
out=docs/gallery
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p $out
for name in sin sgd_vs_adam degree_sweep mlp_sin lr_sweep measurements rosenbrock beale saddle sin_valley \
        moons spirals xor_linear_vs_mlp widths surface petals; do
    # the races' grey contour bands need the medium palette: 16 colours less the pinned theme and
    # run colours leave four greys, which merge the bands and turn the level lines blue
    case $name in rosenbrock|beale|saddle|sin_valley) quality=medium ;; *) quality=small ;; esac
    python render.py configs/$name.yaml --out "$tmp/$name.gif" --quiet \
        --set "render.size=[320,240]" --set render.quality=$quality >/dev/null 2>"$tmp/$name.log" \
        || { cat "$tmp/$name.log" >&2; exit 1; }
    mv "$tmp/$name.gif" $out/$name.gif
done
status=0
for gif in $out/*.gif; do
    size=$(stat -c %s "$gif")
    printf '%-28s %7d bytes\n' "$gif" "$size"
    if [ "$size" -ge 300000 ]; then echo "  over 300 KB" >&2; status=1; fi
done
exit $status
