/*
 * buf: growable byte buffers with a hard upper bound, for every piece of
 * data that arrives from the network.  Appending past the bound fails
 * cleanly instead of growing without limit.
 */
#ifndef SNAPFERRY_BUF_H
#define SNAPFERRY_BUF_H

#include <stddef.h>

struct buf {
	char	*data;	/* always NUL-terminated when non-NULL */
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* hard limit on len */
};

/** buf_init(b, max): empty buffer that may grow to ${max} bytes. */
void	buf_init(struct buf *b, size_t max);
/** buf_append(b, p, n): append ${n} bytes; -1 (buffer unchanged) past max or on ENOMEM. */
int	buf_append(struct buf *b, const void *p, size_t n);
/** buf_append_str(b, s): append a NUL-terminated string. */
int	buf_append_str(struct buf *b, const char *s);
/** buf_reset(b): length 0, storage kept. */
void	buf_reset(struct buf *b);
/** buf_steal(b): hand the storage to the caller (free() it); b is empty after. */
char	*buf_steal(struct buf *b);
/** buf_clean(b): wipe and release the storage; b may be reused after buf_init. */
void	buf_clean(struct buf *b);

/** buf_grow(p, cap, size, first): array ${p} of *${cap} elements of ${size} bytes, grown to
 *  twice as many (${first} when empty): the new array, *${cap} updated.  NULL when the size
 *  would overflow or on ENOMEM, ${p} and *${cap} unchanged.  The one growable array. */
void	*buf_grow(void *p, size_t *cap, size_t size, size_t first);

/** xstrdup(s): strdup that passes NULL through; NULL also on ENOMEM. */
char	*xstrdup(const char *s);

/** xstrdup_replace(field, value): free *${field} and set it to a copy of ${value} (NULL
 *  clears it); 0, or -1 on ENOMEM with *${field} unchanged. */
int	xstrdup_replace(char **field, const char *value);

/** wipe(p, n): zero memory in a way the compiler may not elide (secrets). */
void	wipe(void *p, size_t n);
/** free_secret(s): wipe a NUL-terminated string, then free it; NULL is fine. */
void	free_secret(char *s);
/** buf_wipe_free(p): free(p) that wipes the whole block first (a library's free hook). */
void	buf_wipe_free(void *p);
/** buf_wipe_realloc(p, n): realloc that wipes a block it moves away from (a library's
 *  realloc hook); n == 0 frees ${p} and answers NULL. */
void	*buf_wipe_realloc(void *p, size_t n);

#endif
