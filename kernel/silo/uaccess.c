/*
 * User-range checks for copy_to_user and copy_from_user: the range must
 * not wrap, must stay in the user half, and every page it touches must be
 * mapped with the rights the copy needs. The copy is all or nothing
 * because this runs before the first byte moves.
 */
#include <kernel/uaccess.h>

bool uaccess_range_ok(uint64_t u, size_t n, uint64_t top)
{
	return u + n >= u && u + n <= top;
}

bool uaccess_pages_ok(uint64_t u, size_t n, uint64_t top, unsigned need,
		      uaccess_lookup_t lookup, const void *ctx)
{
	if (!uaccess_range_ok(u, n, top))
		return false;
	for (uint64_t page = u & ~(UACCESS_PAGE - 1); page < u + n; page += UACCESS_PAGE) {
		unsigned rights = 0;

		if (!lookup(ctx, page, &rights) || (rights & need) != need)
			return false;
	}
	return true;
}
