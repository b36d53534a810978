// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkt-qmp: one monitor command to a QEMU through its QMP channel, for the
 * vmm-* cases and make demo-vm.
 *
 *   pkt-qmp CHANNEL 'HMP COMMAND'    e.g. 'stop', 'info status',
 *                                    'migrate "exec:cat > FILE"'
 *
 * CHANNEL is the base name of two FIFOs, CHANNEL.in and CHANNEL.out
 * (-chardev pipe,path=CHANNEL -mon mode=control): the test kernels have
 * no sockets. The QMP session outlives each call, so the greeting and the
 * capabilities' reply may come once or not at all: the command carries an
 * id, and only the reply with that id counts.
 *
 * It runs the command through human-monitor-command and prints what the
 * monitor answered, unescaped. Exit 0 on a "return", 1 on an "error", a
 * lost channel, a QEMU gone ($PKT_QMP_PIDFILE) or no reply within 20 s,
 * 2 on usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[1 << 16];
static size_t have;
static const char *pidfile;

/* On a FIFO a dead QEMU sends no EOF: is the one in $PKT_QMP_PIDFILE gone? */
static int qemu_gone(void)
{
	char path[64], line[128];
	int pid = 0, gone = 1;
	FILE *f;

	if (!pidfile)
		return 0;
	f = fopen(pidfile, "r");
	if (!f || fscanf(f, "%d", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = pid > 0 ? fopen(path, "r") : NULL;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "State:", 6))
			gone = strchr(line, 'Z') || strchr(line, 'X');
	if (f)
		fclose(f);
	return gone;
}

/* The next line QEMU sent (without its newline), or NULL at EOF. */
static char *next_line(int fd)
{
	static char line[sizeof(buf)];
	char *nl;
	ssize_t n;

	while (!(nl = memchr(buf, '\n', have))) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (have == sizeof(buf))
			return NULL;
		if (poll(&p, 1, 500) == 0) {
			if (qemu_gone())
				return NULL;
			continue;
		}
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n <= 0)
			return NULL;
		have += n;
	}
	*nl = 0;
	strcpy(line, buf);
	have -= nl + 1 - buf;
	memmove(buf, nl + 1, have);
	return line;
}

/* The reply that carries @id. */
static char *reply(int fd, const char *id)
{
	char *l;

	while ((l = next_line(fd)))
		if (strstr(l, id))
			return l;
	return NULL;
}

static int send_all(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = write(fd, s, len);

		if (n <= 0)
			return -1;
		s += n;
		len -= n;
	}
	return 0;
}

/* Print a JSON string's contents from @p (just past its opening quote). */
static void print_json_string(const char *p)
{
	for (; *p && *p != '"'; p++) {
		if (*p != '\\') {
			putchar(*p);
			continue;
		}
		switch (*++p) {
		case 'n':
			putchar('\n');
			break;
		case 'r':
			break;
		case 't':
			putchar('\t');
			break;
		case 0:
			return;
		default:
			putchar(*p);
		}
	}
}

int main(int argc, char **argv)
{
	char cmd[4096], esc[2048], id[32], path[256], *l, *r;
	int fd, out = -1;
	size_t i, j;

	if (argc != 3 || strlen(argv[1]) >= sizeof(path) - 8) {
		fprintf(stderr, "usage: pkt-qmp CHANNEL 'HMP COMMAND'\n");
		return 2;
	}
	for (i = j = 0; argv[2][i] && j < sizeof(esc) - 2; i++) {
		if (argv[2][i] == '"' || argv[2][i] == '\\')
			esc[j++] = '\\';
		esc[j++] = argv[2][i];
	}
	esc[j] = 0;
	snprintf(id, sizeof(id), "\"pkt-%d\"", (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "{\"execute\":\"qmp_capabilities\"}\n"
		 "{\"execute\":\"human-monitor-command\",\"id\":%s,"
		 "\"arguments\":{\"command-line\":\"%s\"}}\n", id, esc);
	alarm(20);
	pidfile = getenv("PKT_QMP_PIDFILE");
	/* Opened read-write, so neither open waits for the other side. */
	snprintf(path, sizeof(path), "%s.in", argv[1]);
	fd = open(path, O_RDWR);
	if (fd >= 0) {
		snprintf(path, sizeof(path), "%s.out", argv[1]);
		out = open(path, O_RDWR);
	}
	if (fd < 0 || out < 0) {
		fprintf(stderr, "pkt-qmp: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (send_all(fd, cmd) || !(l = reply(out, id))) {
		fprintf(stderr, "pkt-qmp: %s: no reply\n", argv[1]);
		return 1;
	}
	r = strstr(l, "\"return\": \"");
	if (r) {
		print_json_string(r + strlen("\"return\": \""));
		return 0;
	}
	if (strstr(l, "\"return\""))
		return 0;
	fprintf(stderr, "pkt-qmp: %s\n", l);
	return 1;
}
