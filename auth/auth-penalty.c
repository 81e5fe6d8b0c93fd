#include "auth-penalty.h"

#include "../common/buf.h"

#include <stdlib.h>
#include <string.h>

/* A fixed table indexed by a hash of the address: memory is bounded
 * whatever an attacker does; a collision only shares a penalty. */
struct auth_penalty_slot {
	char addr[64];
	unsigned failures;
	uint64_t last_ms;
};

struct auth_penalty {
	struct auth_penalty_slot slots[AUTH_PENALTY_SLOTS];
};

static struct auth_penalty_slot *penalty_slot(struct auth_penalty *p,
					      const char *addr)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *s = (const unsigned char *)addr; *s; s++)
		h = (h ^ *s) * 16777619u;
	return &p->slots[h % AUTH_PENALTY_SLOTS];
}

struct auth_penalty *auth_penalty_new(void)
{
	return xcalloc(1, sizeof(struct auth_penalty));
}

void auth_penalty_free(struct auth_penalty *p)
{
	free(p);
}

static void penalty_refresh(struct auth_penalty_slot *s, const char *addr,
			    uint64_t now_ms)
{
	if (strncmp(s->addr, addr, sizeof(s->addr) - 1) != 0 ||
	    now_ms - s->last_ms > AUTH_PENALTY_FORGET_MS) {
		memset(s, 0, sizeof(*s));
		strncpy(s->addr, addr, sizeof(s->addr) - 1);
	}
}

uint32_t auth_penalty_fail(struct auth_penalty *p, const char *addr,
			   uint64_t now_ms, uint32_t base_ms, uint32_t max_ms)
{
	struct auth_penalty_slot *s = penalty_slot(p, addr);
	penalty_refresh(s, addr, now_ms);
	s->failures++;
	s->last_ms = now_ms;
	uint64_t delay = base_ms;
	for (unsigned i = 1; i < s->failures && delay < max_ms; i++)
		delay *= 2;
	return delay > max_ms ? max_ms : (uint32_t)delay;
}

void auth_penalty_success(struct auth_penalty *p, const char *addr)
{
	struct auth_penalty_slot *s = penalty_slot(p, addr);
	if (strncmp(s->addr, addr, sizeof(s->addr) - 1) == 0)
		memset(s, 0, sizeof(*s));
}

unsigned auth_penalty_count(struct auth_penalty *p, const char *addr,
			    uint64_t now_ms)
{
	struct auth_penalty_slot *s = penalty_slot(p, addr);
	if (strncmp(s->addr, addr, sizeof(s->addr) - 1) != 0 ||
	    now_ms - s->last_ms > AUTH_PENALTY_FORGET_MS)
		return 0;
	return s->failures;
}
