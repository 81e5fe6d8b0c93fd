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
tls_port=${POSTERN_DEMO_TLS_PORT:-10993}
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
# A self-signed certificate (GnuTLS certtool) so the TLS port and
# STARTTLS work at once; made once and kept under build/demo.
if [ ! -s "$demo/tls-cert.pem" ] || [ ! -s "$demo/tls-key.pem" ]; then
	cat > "$demo/tls.tmpl" <<TMPL
cn = "localhost"
organization = "Postern demo"
expiration_days = 365
dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_server
signing_key
encryption_key
TMPL
	certtool --generate-privkey --key-type=ecdsa --outfile "$demo/tls-key.pem" 2>/dev/null
	chmod 600 "$demo/tls-key.pem"
	certtool --generate-self-signed --load-privkey "$demo/tls-key.pem" \
		--template "$demo/tls.tmpl" --outfile "$demo/tls-cert.pem" 2>/dev/null
fi
cat > "$demo/postern.conf" <<CONF
# Demo configuration written by etc/demo/run-demo.sh
listen = 127.0.0.1:$port
listen_tls = 127.0.0.1:$tls_port
tls_cert = $demo/tls-cert.pem
tls_key = $demo/tls-key.pem
mail_root = $demo/mail
run_dir = $demo/run
pam_service = postern-demo
login_user = postern-demo
log_level = info
CONF

cat <<MSG

  Postern demo server on 127.0.0.1:$port (IMAP, STARTTLS)
                    and 127.0.0.1:$tls_port (IMAP over TLS)
  user: $user   password: $password
  certificate: self-signed, $demo/tls-cert.pem

  Try it:
    python3 -c "import imaplib; c = imaplib.IMAP4('127.0.0.1', $port); print(c.login('$user', '$password')); print(c.noop()); c.logout()"
    curl -v --user $user:$password 'imap://127.0.0.1:$port' -X NOOP
  Over TLS (the certificate is self-signed: unverified here):
    python3 -c "import imaplib, ssl; x = ssl._create_unverified_context(); c = imaplib.IMAP4_SSL('127.0.0.1', $tls_port, ssl_context=x); print(c.login('$user', '$password')); print(c.noop()); c.logout()"
    curl -v -k --user $user:$password 'imaps://127.0.0.1:$tls_port' -X NOOP
    curl -v --cacert $demo/tls-cert.pem --ssl-reqd --user $user:$password 'imap://127.0.0.1:$port' -X NOOP
    gnutls-cli --x509cafile $demo/tls-cert.pem -p $tls_port 127.0.0.1
  Control (in another terminal):
    $build/posternctl -c $demo/postern.conf status

  Ctrl-C stops the server.

MSG
LD_PRELOAD="libpam_wrapper.so libnss_wrapper.so" \
PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$demo/pam.d" \
NSS_WRAPPER_PASSWD="$demo/passwd" NSS_WRAPPER_GROUP="$demo/group" \
	exec "$build/posternd" -f -c "$demo/postern.conf"
