/*
 * The two library functions GCC may call on its own for struct copies and
 * zeroing loops, even in a freestanding kernel.  The attribute keeps GCC
 * from turning these very loops back into calls to themselves.
 */
#include "minikernel.h"

typedef __SIZE_TYPE__ size_t;

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

__attribute__((optimize("no-tree-loop-distribute-patterns"))) void *memset(void *dst, int c, size_t n)
{
	u8 *d = dst;
	while (n--)
		*d++ = (u8)c;
	return dst;
}

__attribute__((optimize("no-tree-loop-distribute-patterns"))) void *memcpy(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}
