#!/bin/sh
# make bench: every benchmark, figures only, in their quick forms (a few
# minutes on 2 cores); tests/bench/README has the full runs. BUILD is the
# build directory. Where Dovecot is installed, bench-imap.py and
# bench-tls.py print its figures beside Postern's.
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
d=$(mktemp -d /var/tmp/postern-bench-XXXXXX)
"$build/bench-search" --n 10000 --dir "$d"
rm -rf "$d"
echo "== login and process memory"
python3 tests/bench/bench-login.py "$build"
cc -std=gnu11 -O2 -g -D_GNU_SOURCE -o "$build/bench-corpus" \
	tests/bench/bench-corpus.c "$build/libpostern.a"
echo "== IMAP and SEARCH over IMAP (bench-imap.py --quick: 10k messages;" \
	"100k: python3 tests/bench/bench-imap.py $build)"
python3 tests/bench/bench-imap.py --quick "$build"
echo "== TLS (bench-tls.py --quick; longer runs:" \
	"python3 tests/bench/bench-tls.py $build)"
python3 tests/bench/bench-tls.py --quick "$build"
