/*
 * Wait-queue and timeout lists. See <kernel/waitq_core.h>.
 */
#include <kernel/waitq_core.h>
#include <stddef.h>

wq_node_t *wq_take_one(wq_list_t *q)
{
	while (q->head) {
		wq_node_t *n = q->head;

		wq_remove(q, n);
		if (n->blocked) {
			n->blocked = false;
			return n;
		}
	}
	return NULL;
}

void tq_arm(tq_list_t *q, tq_node_t *n, uint64_t deadline)
{
	tq_node_t **p = &q->head;

	tq_disarm(q, n);
	while (*p && (*p)->deadline <= deadline)
		p = &(*p)->next;
	n->deadline = deadline;
	n->next = *p;
	n->armed = true;
	*p = n;
}

bool tq_disarm(tq_list_t *q, tq_node_t *n)
{
	if (!n->armed)
		return false;
	for (tq_node_t **p = &q->head; *p; p = &(*p)->next) {
		if (*p == n) {
			*p = n->next;
			break;
		}
	}
	n->next = NULL;
	n->armed = false;
	return true;
}

tq_node_t *tq_expire_one(tq_list_t *q, uint64_t now)
{
	tq_node_t *n = q->head;

	if (!n || n->deadline > now)
		return NULL;
	q->head = n->next;
	n->next = NULL;
	n->armed = false;
	return n;
}
