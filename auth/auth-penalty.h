/* Failed-login penalty per remote address: each failure doubles the delay
 * before the next failure is answered, up to a cap; a success or a quiet
 * period clears it. Pure bookkeeping: the caller supplies the time. */
#ifndef POSTERN_AUTH_PENALTY_H
#define POSTERN_AUTH_PENALTY_H

#include <stdint.h>

#define AUTH_PENALTY_SLOTS 4096
#define AUTH_PENALTY_FORGET_MS (15 * 60 * 1000)

struct auth_penalty;

struct auth_penalty *auth_penalty_new(void);
void auth_penalty_free(struct auth_penalty *p);
/* Records a failure from addr at now_ms; returns the delay in ms to wait
 * before answering it: base * 2^(failures-1), capped at max. */
uint32_t auth_penalty_fail(struct auth_penalty *p, const char *addr,
			   uint64_t now_ms, uint32_t base_ms, uint32_t max_ms);
void auth_penalty_success(struct auth_penalty *p, const char *addr);
/* Failures recorded for addr (tests, logs). */
unsigned auth_penalty_count(struct auth_penalty *p, const char *addr,
			    uint64_t now_ms);

#endif
