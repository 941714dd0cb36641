/*
 * The Linux baseline for chanbench: the same two measurements between two
 * processes over pipes, 64-byte messages, run as /init of a Linux guest in
 * the same QEMU under -icount shift=0 (rdtsc counts guest instructions,
 * kernel and user, exactly as for Sluice). Exits QEMU through
 * isa-debug-exit.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 5000
#define MSG 64

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void must(ssize_t got, const char *what)
{
	if (got != MSG) {
		printf("linux-pingpong: %s failed\n", what);
		_exit(1);
	}
}

static void child(int in, int out)
{
	char m[MSG] = { 0 };

	for (int i = 0; i < N; i++)
		must(read(in, m, MSG), "read");
	must(write(out, m, MSG), "write");
	for (int i = 0; i < N; i++) {
		must(read(in, m, MSG), "read");
		must(write(out, m, MSG), "write");
	}
	_exit(0);
}

/* The initramfs holds no device node (cpio writes it as any user can), so
 * the console comes from devtmpfs; then the kernel's name, for the report. */
static void console_open(void)
{
	struct utsname u;
	int fd;

	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	fd = open("/dev/console", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (uname(&u) == 0)
		printf("linux-pingpong: kernel %s %s %s\n", u.sysname, u.release, u.version);
}

int main(void)
{
	int ab[2], ba[2];
	char m[MSG] = { 1 };

	console_open();

	if (pipe(ab) || pipe(ba))
		return 1;
	if (fork() == 0)
		child(ab[0], ba[1]);
	uint64_t t0 = rdtsc();
	for (int i = 0; i < N; i++)
		must(write(ab[1], m, MSG), "write");
	must(read(ba[0], m, MSG), "read");
	uint64_t one_way = (rdtsc() - t0) / N;
	t0 = rdtsc();
	for (int i = 0; i < N; i++) {
		must(write(ab[1], m, MSG), "write");
		must(read(ba[0], m, MSG), "read");
	}
	uint64_t round_trip = (rdtsc() - t0) / N;
	wait(NULL);
	printf("linux-pingpong: pipe write + read between two processes: %llu instructions per message\n",
	       (unsigned long long)one_way);
	printf("linux-pingpong: ping-pong over two pipes: %llu instructions per round trip\n",
	       (unsigned long long)round_trip);
	fflush(stdout);
	if (ioperm(0xf4, 4, 1) == 0)
		outb(0x10, 0xf4);
	return 0;
}
