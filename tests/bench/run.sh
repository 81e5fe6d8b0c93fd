#!/bin/sh
# make bench: every benchmark, figures only. BUILD is the build directory.
set -eu
build=${1:-build}
cc -std=gnu11 -O2 -g -D_GNU_SOURCE -o "$build/bench-store" \
	tests/bench/bench-store.c "$build/libpostern.a" \
	$(pkg-config --libs lmdb zlib) 
echo "== store (bench-store --quick --max 100000; full run: $build/bench-store)"
d=$(mktemp -d /var/tmp/postern-bench-XXXXXX)
"$build/bench-store" --quick --max 100000 --dir "$d"
rm -rf "$d"
cc -std=gnu11 -O2 -g -D_GNU_SOURCE -o "$build/bench-search" \
	tests/bench/bench-search.c "$build/libposternd.a" "$build/libpostern.a" \
	$(pkg-config --libs gnutls lmdb libseccomp zlib) -lpam -lcrypt
echo "== search index (bench-search --n 10000; 100k: $build/bench-search --n 100000)"
"$build/bench-search" --n 10000
echo "== login and process memory"
python3 tests/bench/bench-login.py "$build"
if command -v dovecot >/dev/null 2>&1; then
	echo "== dovecot is installed: side-by-side figures are not wired yet"
else
	echo "== dovecot: not installed (apt-get install dovecot-imapd for side-by-side figures)"
fi
