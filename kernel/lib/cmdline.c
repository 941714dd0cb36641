#include <kernel/cmdline.h>

/* Length of the word at s, up to a space or the end. */
static size_t word_len(const char *s)
{
	size_t n = 0;

	while (s[n] && s[n] != ' ')
		n++;
	return n;
}

/* Finds the first word that is key (a flag; unless need_value) or starts
 * with "key="; returns a pointer just past the key. */
static const char *find_key(const char *s, const char *key, bool need_value)
{
	size_t klen = 0;

	while (key[klen])
		klen++;
	while (s && *s) {
		while (*s == ' ')
			s++;
		size_t n = word_len(s);
		size_t i = 0;
		while (i < klen && i < n && s[i] == key[i])
			i++;
		if (klen > 0 && i == klen && ((n == klen && !need_value) || (n > klen && s[klen] == '=')))
			return s + klen;
		s += n;
	}
	return NULL;
}

bool cmdline_has(const char *cmdline, const char *key)
{
	return find_key(cmdline, key, false) != NULL;
}

int cmdline_get(const char *cmdline, const char *key, char *buf, size_t size)
{
	const char *p = find_key(cmdline, key, true);

	if (!p)
		return -1;
	p++;
	size_t n = word_len(p);
	if (size > 0) {
		size_t copy = n < size - 1 ? n : size - 1;
		for (size_t i = 0; i < copy; i++)
			buf[i] = p[i];
		buf[copy] = '\0';
	}
	return (int)n;
}
