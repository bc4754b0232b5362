#!/usr/bin/env bash
# Vendor MathJax 3 (from the npm registry) into _static/mathjax, so that the website renders its maths with
# no network at all (a reader offline, the browser test). _config.yml points mathjax_path at it.
set -euo pipefail
cd "$(dirname "$0")/.."
version=3.2.2
target=_static/mathjax
[ -f "$target/VERSION" ] && [ "$(cat "$target/VERSION")" = "$version" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "mathjax@$version" --silent >/dev/null && tar -xzf "mathjax-$version.tgz")
rm -rf "$target" && mkdir -p "$target/output/chtml/fonts"
cp "$tmp/package/es5/tex-chtml.js" "$target/"
cp -r "$tmp/package/es5/output/chtml/fonts/woff-v2" "$target/output/chtml/fonts/"
cp "$tmp/package/LICENSE" "$target/LICENSE"
echo "$version" > "$target/VERSION"
echo "mathjax $version vendored in $target"
