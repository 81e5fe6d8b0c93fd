#include "net-conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void net_conn_init(struct net_conn *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	buf_init(&c->in);
	buf_init(&c->out);
}

void net_conn_close(struct net_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_wipe(&c->in);
	buf_wipe(&c->out);
}

size_t net_conn_read(struct net_conn *c, size_t max_in)
{
	if (c->in.len >= max_in || c->eof || c->failed)
		return 0;
	size_t room = max_in - c->in.len;
	if (room > 16384)
		room = 16384;
	buf_reserve(&c->in, room);
	ssize_t n;
	do {
		n = read(c->fd, c->in.data + c->in.len, room);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			c->failed = true;
		return 0;
	}
	if (n == 0) {
		c->eof = true;
		return 0;
	}
	c->in.len += (size_t)n;
	return (size_t)n;
}

bool net_conn_flush(struct net_conn *c)
{
	size_t off = 0;
	while (off < c->out.len && !c->failed) {
		ssize_t n = send(c->fd, c->out.data + off, c->out.len - off,
				 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->failed = true;
			break;
		}
		off += (size_t)n;
	}
	buf_consume(&c->out, off);
	return c->out.len == 0;
}

void net_conn_write(struct net_conn *c, const void *data, size_t len)
{
	buf_append(&c->out, data, len);
}

void net_conn_write_str(struct net_conn *c, const char *s)
{
	buf_append_str(&c->out, s);
}

void net_conn_printf(struct net_conn *c, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	buf_append(&c->out, tmp, (size_t)n);
}

void net_addr_format(const void *sockaddr, char *ip, size_t ip_size,
		     char *ip_port, size_t ip_port_size)
{
	const struct sockaddr *sa = sockaddr;
	char host[INET6_ADDRSTRLEN] = "unknown";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = sockaddr;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		snprintf(ip_port, ip_port_size, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = sockaddr;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		/* Show v4-mapped peers of a dual-stack socket as IPv4, so
		 * the failure penalty counts one host once. */
		if (strncmp(host, "::ffff:", 7) == 0 && strchr(host + 7, '.'))
			memmove(host, host + 7, strlen(host + 7) + 1);
		port = ntohs(a->sin6_port);
		if (strchr(host, ':') != NULL)
			snprintf(ip_port, ip_port_size, "[%s]:%u", host, port);
		else
			snprintf(ip_port, ip_port_size, "%s:%u", host, port);
	} else {
		snprintf(ip_port, ip_port_size, "unknown");
	}
	snprintf(ip, ip_size, "%s", host);
}

bool net_addr_is_loopback(const void *sockaddr)
{
	const struct sockaddr *sa = sockaddr;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = sockaddr;
		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = sockaddr;
		if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) &&
		       a->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}
