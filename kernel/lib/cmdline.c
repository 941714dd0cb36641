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

/*
 * Undoes GRUB's quoting of a module's arguments (grub_create_loader_cmdline):
 * GRUB writes each argument followed by one space (the last space dropped),
 * wraps an argument holding a space in double quotes and puts a backslash
 * before every \, ' and ". So one space separates two arguments, two spaces
 * enclose an empty one, and nothing GRUB was given is lost.
 */
int cmdline_split_args(char *s, char **argv, int max)
{
	int argc = 0;

	for (;;) {
		char *out = s;
		bool quoted = false;

		if (argc == max)
			return -1;
		argv[argc++] = out;
		for (; *s && (quoted || *s != ' '); s++) {
			if (*s == '"')
				quoted = !quoted;
			else if (*s == '\\' && s[1])
				*out++ = *++s;
			else
				*out++ = *s;
		}
		bool more = *s == ' ';
		*out = '\0';
		if (!more)
			return argc;
		s++;
	}
}
