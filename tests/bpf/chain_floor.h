/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* chain_floor.h - the chain of the dispatch bench's floor programs: the ten steps
 * F(0) .. F(9) in turn, stopping at the first verdict other than XDP_PASS (the least
 * a chain needs between its members), in a function that returns the last verdict. */
#ifndef CHAIN_FLOOR_H
#define CHAIN_FLOOR_H

#define STEP(x)								\
	do {								\
		ret = (x);						\
		if (ret != XDP_PASS)					\
			return ret;					\
	} while (0)

#define CHAIN10(F)							\
	do {								\
		int ret;						\
									\
		STEP(F(0)); STEP(F(1)); STEP(F(2)); STEP(F(3)); STEP(F(4)); \
		STEP(F(5)); STEP(F(6)); STEP(F(7)); STEP(F(8)); STEP(F(9)); \
		return ret;						\
	} while (0)

#endif
