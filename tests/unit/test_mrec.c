/* SPDX-License-Identifier: Apache-2.0 */
/* test_mrec.c - the manager's table of programs by id (core/state/mrec.c): adds and
 * drops in any order keep every id found, and only those; shared map directories */
#include <errno.h>
#include <stdint.h>

#include "harness.h"
#include "core/state/mrec.h"

#define N	2000

static int add(struct mgr *m, uint32_t id, uint32_t owner)
{
	struct mrec mr = { .id = id, .owner = owner };

	snprintf(mr.map_dir, sizeof(mr.map_dir), "/fs/maps/%u", owner ? owner : id);
	return mrec_add(m, &mr);
}

/* every id of present[] found at its own entry, the others not */
static bool table_right(struct mgr *m, const bool *present, const uint32_t *ids, size_t n)
{
	struct mrec *r;
	size_t i;

	for (i = 0; i < n; i++) {
		r = mrec_find(m, ids[i]);
		if (present[i] ? !r || r->id != ids[i] : r != NULL)
			return false;
	}
	return true;
}

static void find_after_adds_and_drops(void)
{
	static uint32_t ids[N];
	static bool present[N];
	struct mgr m = { 0 };
	size_t i, live = N;
	uint32_t x = 12345;

	/* ids that collide in a power-of-two table: multiples of 1024, and a run */
	for (i = 0; i < N; i++)
		ids[i] = i % 2 ? (uint32_t)(i + 1) * 1024 : 3000000 + (uint32_t)i;
	for (i = 0; i < N; i++) {
		if (!ASSERT_OK(add(&m, ids[i], 0), "add"))
			return;
		present[i] = true;
	}
	ASSERT_EQ(m.n, N, "all added");
	ASSERT_TRUE(table_right(&m, present, ids, N), "every id found");
	ASSERT_TRUE(mrec_find(&m, 7) == NULL, "an id never added");
	/* drop three quarters in a pseudo-random order, checking as it goes */
	while (live > N / 4) {
		x = x * 1103515245 + 12345;
		i = (x >> 8) % N;
		if (!present[i])
			continue;
		mrec_drop(&m, mrec_find(&m, ids[i]));
		present[i] = false;
		live--;
		if (live % 97 == 0 && !ASSERT_TRUE(table_right(&m, present, ids, N), "after drops"))
			return;
	}
	ASSERT_EQ(m.n, live, "count");
	ASSERT_TRUE(table_right(&m, present, ids, N), "after drops");
	/* and back: the dropped ones added again */
	for (i = 0; i < N; i++) {
		if (present[i])
			continue;
		if (!ASSERT_OK(add(&m, ids[i], 0), "add again"))
			return;
		present[i] = true;
	}
	ASSERT_TRUE(table_right(&m, present, ids, N), "after adding back");
	free(m.recs);
	free(m.idx);
}

static void map_dirs(void)
{
	struct mgr m = { 0 };

	/* 20 shares the maps of 10, added before it (as recovery may) */
	ASSERT_OK(add(&m, 20, 10), "sharer");
	ASSERT_OK(add(&m, 10, 0), "owner");
	ASSERT_OK(add(&m, 30, 0), "alone");
	ASSERT_TRUE(mrec_find(&m, 20)->maps_shared, "a sharer knows");
	ASSERT_FALSE(mrec_find(&m, 10)->maps_shared, "not yet the owner");
	mrec_mark_shared(&m);
	ASSERT_TRUE(mrec_find(&m, 10)->maps_shared, "the owner after the pass");
	ASSERT_FALSE(mrec_find(&m, 30)->maps_shared, "nor one alone");
	/* an owner already there learns at the add */
	ASSERT_OK(add(&m, 40, 30), "sharer of 30");
	ASSERT_TRUE(mrec_find(&m, 30)->maps_shared, "owner 30 knows");
	ASSERT_TRUE(mrec_map_dir_in_use(&m, "/fs/maps/10"), "10's, by its owner");
	mrec_drop(&m, mrec_find(&m, 10));
	ASSERT_TRUE(mrec_map_dir_in_use(&m, "/fs/maps/10"), "10's, by 20 alone");
	mrec_drop(&m, mrec_find(&m, 20));
	ASSERT_FALSE(mrec_map_dir_in_use(&m, "/fs/maps/10"), "no longer");
	ASSERT_FALSE(mrec_map_dir_in_use(&m, "/fs/maps/x"), "not an id");
	free(m.recs);
	free(m.idx);
}

TEST_MAIN("mrec", TEST(find_after_adds_and_drops), TEST(map_dirs))
