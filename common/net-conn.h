/* Buffered non-blocking socket I/O for one client connection: input
 * collected for a parser, output queued and flushed as the socket takes
 * it. Used by the login process and the worker. */
#ifndef POSTERN_NET_CONN_H
#define POSTERN_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct net_conn {
	int fd;
	struct buf in;
	struct buf out;
	bool eof;		/* peer closed its side */
	bool failed;		/* read or write error; close it */
};

void net_conn_init(struct net_conn *c, int fd);
/* Closes the socket and wipes both buffers (they may have held a
 * password). */
void net_conn_close(struct net_conn *c);
/* Reads what is available, up to max_in bytes buffered in total.
 * Returns bytes read (0 if none or the buffer is full). Sets eof/failed. */
size_t net_conn_read(struct net_conn *c, size_t max_in);
/* Writes as much queued output as the socket takes. true when all is
 * written. */
bool net_conn_flush(struct net_conn *c);
void net_conn_write(struct net_conn *c, const void *data, size_t len);
void net_conn_write_str(struct net_conn *c, const char *s);
void net_conn_printf(struct net_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "192.0.2.1" / "2001:db8::1" and "192.0.2.1:143" / "[2001:db8::1]:143"
 * of the socket's peer or local address. */
void net_addr_format(const void *sockaddr, char *ip, size_t ip_size,
		     char *ip_port, size_t ip_port_size);
bool net_addr_is_loopback(const void *sockaddr);

#endif
