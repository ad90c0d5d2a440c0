/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's device providers behind one call (dev_node_discover), used by
 * the agent to say what a node has: "none", "mock:N:MODEL[:VENDOR]" (virtual
 * accelerators for machines without any), "plugin:NAME[:CONFIG]", which loads
 * a device plugin through the loader (dev.c, the public ABI
 * include/aidc/device.h) in a child process and reports what it finds, and "nvml" (every NVIDIA GPU through libnvidia-ml,
 * nvml.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "dev/dev.h"
#include "util/util.h"

static int mock(const char *spec, struct dev_node_device *out, uint32_t *n, struct aidc_err *e)
{
	char buf[AIDC_MAX_NAME_BYTES];
	snprintf(buf, sizeof buf, "%s", spec);
	char *save = NULL;
	char *cnt = strtok_r(buf, ":", &save);
	char *model = strtok_r(NULL, ":", &save);
	char *vendor = strtok_r(NULL, ":", &save);
	uint32_t k;
	if (!cnt || aidc_parse_u32(cnt, 0, AIDC_MAX_DEVICES_PER_NODE, &k) != 0)
		return aidc_errf(e, AIDC_E_INVAL, "devices 'mock:%s': N must be 0..%u", spec,
				 AIDC_MAX_DEVICES_PER_NODE);
	for (uint32_t i = 0; i < k; i++) {
		snprintf(out[i].vendor, sizeof out[i].vendor, "%s", vendor ? vendor : "mock");
		snprintf(out[i].model, sizeof out[i].model, "%s", model ? model : "mock-a1");
		out[i].mem_mib = 16384;
	}
	*n = k;
	return 0;
}

/* What the discovery child sends back: this header, then n devices. */
struct discover_reply {
	int32_t rc;
	uint32_t n;
	char msg[AIDC_ERRMSG_MAX];
};

static bool write_all(int fd, const void *buf, size_t len)
{
	const char *b = buf;
	while (len) {
		ssize_t w = write(fd, b, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		b += w;
		len -= (size_t)w;
	}
	return true;
}

static void discover_child(int fd, struct dev_watch *watch, const char *plugin,
			   const char *config)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct dev_plugin p;
	struct aidc_err e = {0};
	struct discover_reply r = {0};
	static struct dev_node_device out[AIDC_MAX_DEVICES_PER_NODE];
	r.rc = dev_plugin_open_watched(&p, plugin, config, watch, &e);
	if (r.rc) {
		snprintf(r.msg, sizeof r.msg, "%s", aidc_err_text(&e, r.rc));
	} else {
		r.n = p.ndev < AIDC_MAX_DEVICES_PER_NODE ? p.ndev : AIDC_MAX_DEVICES_PER_NODE;
		for (uint32_t i = 0; i < r.n; i++) {
			const struct aidc_dev_info *in = &p.info[i];
			snprintf(out[i].vendor, sizeof out[i].vendor, "%.100s", in->vendor);
			snprintf(out[i].model, sizeof out[i].model, "%.100s", in->model);
			snprintf(out[i].uuid, sizeof out[i].uuid, "%.100s", in->uuid);
			snprintf(out[i].visible_env, sizeof out[i].visible_env, "%s", in->visible_env);
			out[i].mem_mib = in->mem_bytes >> 20;
		}
		dev_plugin_close(&p);
	}
	bool ok = write_all(fd, &r, sizeof r) && write_all(fd, out, r.n * sizeof out[0]);
	_exit(ok ? 0 : 3);
}

/* Reads len bytes from fd by deadline_s (monotonic); false on EOF or timeout. */
static bool read_by(int fd, void *buf, size_t len, double deadline_s)
{
	char *b = buf;
	while (len) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		double left = deadline_s - ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
		if (left <= 0)
			return false;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int pr = poll(&pf, 1, (int)(left * 1000) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return false;
		ssize_t got = read(fd, b, len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return false;
		b += got;
		len -= (size_t)got;
	}
	return true;
}

int dev_plugin_discover(const char *plugin, const char *config, struct dev_node_device *out,
			uint32_t *n, struct aidc_err *e)
{
	*n = 0;
	uint32_t limit_s = DEV_DISCOVER_TIMEOUT_S;
	const char *env = getenv("AIDC_PLUGIN_DISCOVER_TIMEOUT_S");
	if (env && aidc_parse_u32(env, 1, 3600, &limit_s) != 0)
		return aidc_errf(e, AIDC_E_INVAL,
				 "AIDC_PLUGIN_DISCOVER_TIMEOUT_S='%s': expected seconds, 1..3600", env);
	struct dev_watch *w = mmap(NULL, sizeof *w, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w == MAP_FAILED)
		return aidc_errf(e, AIDC_E_IO, "mmap: %s", strerror(errno));
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		munmap(w, sizeof *w);
		return aidc_errf(e, AIDC_E_IO, "pipe: %s", strerror(errno));
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		munmap(w, sizeof *w);
		return aidc_errf(e, AIDC_E_IO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dev_child_default_faults();
		close(fds[0]);
		discover_child(fds[1], w, plugin, config);
	}
	close(fds[1]);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double deadline = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + limit_s;
	struct discover_reply r;
	bool got = read_by(fds[0], &r, sizeof r, deadline);
	uint32_t k = got && r.rc == 0 && r.n <= AIDC_MAX_DEVICES_PER_NODE ? r.n : 0;
	if (got && k)
		got = read_by(fds[0], out, k * sizeof out[0], deadline);
	char call[sizeof w->call];
	snprintf(call, sizeof call, "%s", (const char *)w->call);
	bool in_call = w->start_s > 0;
	int st = 0;
	if (!got)
		kill(pid, SIGKILL); /* hung, or already gone: reap it either way */
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	munmap(w, sizeof *w);
	if (got) {
		if (r.rc) {
			r.msg[sizeof r.msg - 1] = '\0';
			return aidc_errf(e, r.rc, "%s", r.msg);
		}
		*n = k;
		for (uint32_t i = 0; i < k; i++) {
			out[i].vendor[sizeof out[i].vendor - 1] = '\0';
			out[i].model[sizeof out[i].model - 1] = '\0';
			out[i].uuid[sizeof out[i].uuid - 1] = '\0';
			out[i].visible_env[sizeof out[i].visible_env - 1] = '\0';
		}
		return 0;
	}
	char how[128];
	if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
		snprintf(how, sizeof how, "crashed (signal %d, %s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else if (WIFSIGNALED(st))
		snprintf(how, sizeof how, "did not finish within %u s", limit_s);
	else
		snprintf(how, sizeof how, "exited with status %d",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	if (in_call || call[0])
		return aidc_errf(e, AIDC_E_DEVICE, "device plugin %s %s in its %s call", plugin,
				 how, call);
	return aidc_errf(e, AIDC_E_DEVICE, "device plugin %s %s while loading", plugin, how);
}

/* "NAME" or "NAME:CONFIG" (the config is the plugin's "key=value,..." string). */
static int plugin(const char *spec, struct dev_node_device *out, uint32_t *n, struct aidc_err *e)
{
	char name[AIDC_MAX_PATH_BYTES];
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
	if (len == 0 || len >= sizeof name)
		return aidc_errf(e, AIDC_E_INVAL, "devices 'plugin:%s': expected plugin:NAME[:CONFIG]",
				 spec);
	memcpy(name, spec, len);
	name[len] = '\0';
	return dev_plugin_discover(name, colon ? colon + 1 : NULL, out, n, e);
}

int dev_node_discover(const char *spec, struct dev_node_device *out, uint32_t *n,
		      struct aidc_err *e)
{
	*n = 0;
	if (!spec || !*spec || strcmp(spec, "none") == 0)
		return 0;
	if (strncmp(spec, "mock:", 5) == 0)
		return mock(spec + 5, out, n, e);
	if (strncmp(spec, "plugin:", 7) == 0)
		return plugin(spec + 7, out, n, e);
	if (strcmp(spec, "nvml") == 0)
		return dev_nvml_discover(out, n, e);
	return aidc_errf(e, AIDC_E_INVAL,
			 "devices '%s': expected none, mock:N:MODEL[:VENDOR], plugin:NAME[:CONFIG] or "
			 "nvml",
			 spec);
}
