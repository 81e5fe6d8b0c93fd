#!/bin/sh
# make run: a working Postern on 127.0.0.1 with a demo user, for trying it
# out. Fake users come from nss_wrapper and the password from pam_wrapper's
# pam_matrix, so the machine's /etc/passwd and /etc/pam.d are not touched.
# Everything lives under BUILD/demo; Ctrl-C stops the server.
set -eu
build=${1:-build}
build=$(cd "$build" && pwd)
demo=$build/demo
port=${POSTERN_DEMO_PORT:-10143}
user=demo
password=${POSTERN_DEMO_PASSWORD:-demo-password}
libdir=/usr/lib/x86_64-linux-gnu
[ -e "$libdir/pam_wrapper/pam_matrix.so" ] || libdir=$(dirname "$(find /usr/lib -name pam_matrix.so | head -n 1)")/..

if [ "$(id -u)" != 0 ]; then
	echo "make run: run as root (posternd starts as root and drops privileges" >&2
	echo "per process; see README for --unprivileged-dev)" >&2
	exit 1
fi

mkdir -p "$demo/pam.d"
cat > "$demo/passwd" <<PW
root:x:0:0:root:/root:/bin/sh
$user:x:30000:30000:Demo User:/nonexistent:/bin/sh
postern-demo:x:30100:30100:Postern login:/nonexistent:/usr/sbin/nologin
PW
cat > "$demo/group" <<GR
root:x:0:
$user:x:30000:
postern-demo:x:30100:
GR
printf '%s:%s:postern-demo\n' "$user" "$password" > "$demo/passdb"
chmod 600 "$demo/passdb"
pm=$libdir/pam_wrapper/pam_matrix.so
printf 'auth required %s passdb=%s\naccount required %s passdb=%s\n' \
	"$pm" "$demo/passdb" "$pm" "$demo/passdb" > "$demo/pam.d/postern-demo"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' > "$demo/pam.d/other"
cat > "$demo/postern.conf" <<CONF
# Demo configuration written by etc/demo/run-demo.sh
listen = 127.0.0.1:$port
mail_root = $demo/mail
run_dir = $demo/run
pam_service = postern-demo
login_user = postern-demo
log_level = info
CONF

cat <<MSG

  Postern demo server on 127.0.0.1:$port (IMAP)
  user: $user   password: $password

  Try it:
    python3 -c "import imaplib; c = imaplib.IMAP4('127.0.0.1', $port); print(c.login('$user', '$password')); print(c.noop()); c.logout()"
    curl -v --user $user:$password 'imap://127.0.0.1:$port' -X NOOP
  Control (in another terminal):
    $build/posternctl -c $demo/postern.conf status

  Ctrl-C stops the server.

MSG
LD_PRELOAD="libpam_wrapper.so libnss_wrapper.so" \
PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$demo/pam.d" \
NSS_WRAPPER_PASSWD="$demo/passwd" NSS_WRAPPER_GROUP="$demo/group" \
	exec "$build/posternd" -f -c "$demo/postern.conf"
