/*
 * buf: bounded growable buffers and secret wiping.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

char *
xstrdup(const char *s)
{
	return (s == NULL ? NULL : strdup(s));
}

void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

void
free_secret(char *s)
{
	if (s == NULL)
		return;
	wipe(s, strlen(s));
	free(s);
}

/*
 * Allocator hooks for libraries that copy secrets (libcurl's request buffer holds
 * the Authorization and X-Amz-Security-Token lines): a block is wiped before it goes
 * back to the allocator, and never moved by realloc without wiping the old one.
 * malloc_usable_size is in glibc and musl.
 */
void
buf_wipe_free(void *p)
{
	if (p == NULL)
		return;
	wipe(p, malloc_usable_size(p));
	free(p);
}

void *
buf_wipe_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL)
		return (malloc(n));
	if (n == 0) {
		buf_wipe_free(p);
		return (NULL);
	}
	if ((old = malloc_usable_size(p)) >= n)
		return (p);
	if ((q = malloc(n)) == NULL)
		return (NULL);
	memcpy(q, p, old);
	buf_wipe_free(p);
	return (q);
}

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	size_t need, ncap;
	char *nd;

	if (n > b->max || b->len > b->max - n)
		return (-1);
	need = b->len + n + 1;
	if (need > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < need)
			ncap = (ncap > ((size_t)-1) / 2) ? need : ncap * 2;
		if (ncap > b->max + 1)
			ncap = b->max + 1;
		if ((nd = malloc(ncap)) == NULL)
			return (-1);
		/* Copy then wipe rather than realloc: the old block may hold secrets. */
		if (b->data != NULL) {
			memcpy(nd, b->data, b->len);
			wipe(b->data, b->cap);
			free(b->data);
		}
		b->data = nd;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return (0);
}

int
buf_append_str(struct buf *b, const char *s)
{
	return (buf_append(b, s, strlen(s)));
}

void
buf_reset(struct buf *b)
{
	if (b->data != NULL) {
		wipe(b->data, b->len);
		b->data[0] = '\0';
	}
	b->len = 0;
}

char *
buf_steal(struct buf *b)
{
	char *d = b->data;

	if (d == NULL)
		d = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return (d);
}

void
buf_clean(struct buf *b)
{
	if (b->data != NULL) {
		wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

int
xstrdup_replace(char **field, const char *value)
{
	char *s = NULL;

	if (value != NULL && (s = strdup(value)) == NULL)
		return (-1);
	free(*field);
	*field = s;
	return (0);
}

void *
buf_grow(void *p, size_t *cap, size_t size, size_t first)
{
	size_t ncap = *cap ? *cap : first;
	void *np;

	if (*cap != 0) {
		if (ncap > SIZE_MAX / 2)
			goto overflow;
		ncap *= 2;
	}
	if (size == 0 || ncap == 0 || ncap > SIZE_MAX / size)
		goto overflow;
	if ((np = realloc(p, ncap * size)) == NULL)
		return (NULL);
	*cap = ncap;
	return (np);

overflow:
	errno = ENOMEM;
	return (NULL);
}
