/*
 * millis: the program's clocks and its one sleep, in milliseconds (libcperciva's
 * monoclock and millisleep in one file).
 */
#ifndef SNAPFERRY_MILLIS_H
#define SNAPFERRY_MILLIS_H

#include <stdint.h>

/** millis_now(): wall-clock epoch milliseconds (deadlines, and what logs show). */
int64_t	millis_now(void);
/** millis_mono(): milliseconds of a monotonic clock (durations: never jumps). */
int64_t	millis_mono(void);
/** millis_sleep(ms): sleep ${ms} milliseconds (none when <= 0); an interrupted sleep
 *  resumes for the time that is left, so a signal never shortens a wait. */
void	millis_sleep(int64_t ms);

#endif
