/* assert(e): if e is false, prints where and ends the silo with status
 * 134 (as an abort would), unless NDEBUG is defined. */
#undef assert
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#include <stdio.h>
#include <stdlib.h>
#define assert(e)                                                                               \
	((e) ? (void)0                                                                          \
	     : (printf("%s:%d: %s: assertion '%s' failed\n", __FILE__, __LINE__, __func__, #e), \
		exit(134)))
#endif
