/* Clocks. Monotonic for durations and deadlines, wall for timestamps. */
#ifndef WEIR_CLOCK_H
#define WEIR_CLOCK_H

#include <stdint.h>

uint64_t weir_clock_mono_ms(void);
uint64_t weir_clock_mono_us(void);
/* Milliseconds since the Unix epoch. */
int64_t weir_clock_wall_ms(void);
/* Sleeps for at least ms milliseconds (restarts on EINTR). */
void weir_clock_sleep_ms(uint64_t ms);

#endif
