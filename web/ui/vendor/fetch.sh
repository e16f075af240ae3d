#!/usr/bin/env bash
# Re-fetches the panel's vendored browser libraries with npm pack, checks
# each tarball against the integrity pinned in VERSIONS, and copies the dist
# files here. Nothing is fetched at run time: the files are embedded.
#
# VERSIONS lines: <package> <version> <tarball sha512 integrity> <file> <sha256 of file>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
while read -r pkg version integrity src dst sum; do
	case "$pkg" in '' | '#'*) continue ;; esac
	tgz="$(npm pack --silent "$pkg@$version" 2>/dev/null | tail -n1)"
	got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
	if [ "$got" != "$integrity" ]; then
		echo "vendor-ui: $pkg@$version: tarball integrity $got, want $integrity" >&2
		exit 1
	fi
	rm -rf package && tar -xzf "$tgz"
	cp "package/$src" "$here/$dst"
	have="$(sha256sum "$here/$dst" | cut -d' ' -f1)"
	if [ "$have" != "$sum" ]; then
		echo "vendor-ui: $dst: sha256 $have, want $sum" >&2
		exit 1
	fi
	echo "vendor-ui: $pkg@$version $dst ok"
done <"$here/VERSIONS"
