/* Writes the search benchmark's generated mail (tests/unit/
 * test-search-property-corpus.h, seed 42: the same messages, in the same
 * order, as bench-search --n N) as a maildir, so that the IMAP
 * benchmarks load the same mail into Postern (posternctl import) and
 * into Dovecot (which reads the maildir as it is). Also prints the
 * search strings bench-search uses, one "label<TAB>string" a line.
 *
 *   bench-corpus --n N --maildir DIR    write DIR/{cur,new,tmp}
 *   bench-corpus --queries              print the search strings
 *
 * Files go to cur/ with the ",S=size" and ":2," parts Dovecot writes
 * itself, so neither server has to guess sizes; the bytes are CRLF. */
#include <stdbool.h>

#include "../unit/test-search-property-corpus.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CORPUS_SEED	42
#define CORPUS_WORDS	20000
#define BODY_WORDS	150

static void die(const char *what, const char *path)
{
	fprintf(stderr, "bench-corpus: %s %s: %s\n", what, path,
		strerror(errno));
	exit(1);
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die("mkdir", path);
}

static void write_all(int fd, const uint8_t *p, size_t n, const char *path)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write", path);
		}
		p += w;
		n -= (size_t)w;
	}
}

static void write_maildir(struct corpus *c, size_t n, const char *dir)
{
	char path[4096];
	make_dir(dir);
	for (const char *sub = "cur\0new\0tmp\0"; *sub; sub += strlen(sub) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, sub);
		make_dir(path);
	}
	struct buf msg;
	buf_init(&msg);
	uint64_t raw = 0;
	for (size_t i = 0; i < n; i++) {
		buf_clear(&msg);
		corpus_message(c, (unsigned)i, BODY_WORDS, true, &msg);
		/* the time part orders the names as the messages were made */
		snprintf(path, sizeof(path),
			 "%s/cur/%zu.M%zuP1.bench,S=%zu:2,", dir,
			 (size_t)1700000000 + i, i, msg.len);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);
		if (fd < 0)
			die("open", path);
		write_all(fd, msg.data, msg.len, path);
		if (close(fd) < 0)
			die("close", path);
		raw += msg.len;
	}
	buf_free(&msg);
	printf("%zu messages, %llu bytes\n", n, (unsigned long long)raw);
}

/* The strings bench-search.c picks, so the figures line up. */
static void print_queries(const struct corpus *c)
{
	size_t rare = c->nwords - 1;
	for (size_t i = c->nwords - 200; i < c->nwords; i++)
		if (strlen(c->words[i]) > strlen(c->words[rare]))
			rare = i;
	printf("rare\t%s\n", c->words[rare]);
	printf("common\t%s\n", c->words[12]);
	printf("phrase\t%s %s\n", c->words[3], c->words[7]);
	printf("from\t%.6s\n", c->users[17]);
}

int main(int argc, char **argv)
{
	size_t n = 0;
	const char *maildir = NULL;
	bool queries = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
			n = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--maildir") == 0 && i + 1 < argc)
			maildir = argv[++i];
		else if (strcmp(argv[i], "--queries") == 0)
			queries = true;
		else {
			fprintf(stderr, "usage: bench-corpus --n N --maildir DIR"
				" | --queries\n");
			return 2;
		}
	}
	if (!queries && (maildir == NULL || n == 0)) {
		fprintf(stderr, "bench-corpus: --n N --maildir DIR needed\n");
		return 2;
	}
	struct corpus c;
	corpus_init(&c, CORPUS_SEED, CORPUS_WORDS);
	if (queries)
		print_queries(&c);
	else
		write_maildir(&c, n, maildir);
	corpus_free(&c);
	return 0;
}
