/*
 * millis: wall and monotonic milliseconds, and a sleep that interrupts don't shorten.
 */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "millis.h"

static int64_t
ms_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
millis_now(void)
{
	return (ms_of(CLOCK_REALTIME));
}

int64_t
millis_mono(void)
{
	return (ms_of(CLOCK_MONOTONIC));
}

void
millis_sleep(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
