/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output files that appear whole or not at all, and the input-path check
 * that the CLI commands share (`aidc sim`, `aidc sim openb`, `aidc exam`).
 * An output is written to a temporary file beside its destination (same
 * directory, so the final rename(2) is atomic) and renamed over it only when
 * everything succeeded; a failed run leaves the destination untouched and no
 * temporary behind. Opening early also means a bad --out directory is
 * reported before a long run, not after it.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/outfile.h"
#include "util/util.h"

void aidc_outfile_init(struct aidc_outfile *o)
{
	memset(o, 0, sizeof *o);
}

int aidc_outfile_open(struct aidc_outfile *o, const char *path, struct aidc_err *e)
{
	aidc_outfile_init(o);
	if (!path || strcmp(path, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return aidc_errf(e, AIDC_E_IO, "%s: is a directory", path);
	if (strlen(path) > AIDC_MAX_PATH_BYTES)
		return aidc_errf(e, AIDC_E_LIMIT, "%s: path longer than %u bytes", path,
				 AIDC_MAX_PATH_BYTES);
	/* O_EXCL with a per-process name: never reuse or follow someone else's
	 * file; mode 0666 so the umask applies as for any output. */
	struct aidc_buf b;
	aidc_buf_init(&b, AIDC_MAX_PATH_BYTES + 64);
	int fd = -1, err = 0;
	for (unsigned k = 0; k < 16 && fd < 0; k++) {
		aidc_buf_reset(&b);
		aidc_buf_printf(&b, "%s.tmp-%ld-%u", path, (long)getpid(), k);
		fd = open(aidc_buf_str(&b), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		err = errno;
		if (fd < 0 && err != EEXIST)
			break;
	}
	if (fd < 0) {
		aidc_buf_release(&b);
		return aidc_errf(e, AIDC_E_IO, "%s: cannot write: %s", path, strerror(err));
	}
	o->tmp = aidc_strdup(aidc_buf_str(&b));
	aidc_buf_release(&b);
	o->f = fdopen(fd, "wb");
	if (!o->f) {
		err = errno;
		close(fd);
		aidc_outfile_abort(o);
		return aidc_errf(e, AIDC_E_IO, "%s: cannot write: %s", path, strerror(err));
	}
	o->path = aidc_strdup(path);
	return 0;
}

int aidc_outfile_commit(struct aidc_outfile *o, struct aidc_err *e)
{
	if (!o->f)
		return 0;
	if (o->f == stdout) {
		o->f = NULL;
		return fflush(stdout) == 0 ? 0
					   : aidc_errf(e, AIDC_E_IO, "stdout: %s", strerror(errno));
	}
	int bad = ferror(o->f);
	int err = errno;
	if (fclose(o->f) != 0 || bad) {
		err = bad ? (err ? err : EIO) : errno;
		o->f = NULL;
		int rc = aidc_errf(e, AIDC_E_IO, "%s: write failed: %s", o->path, strerror(err));
		aidc_outfile_abort(o);
		return rc;
	}
	o->f = NULL;
	if (rename(o->tmp, o->path) != 0) {
		err = errno;
		int rc = aidc_errf(e, AIDC_E_IO, "%s: %s", o->path, strerror(err));
		aidc_outfile_abort(o);
		return rc;
	}
	aidc_free(o->tmp);
	aidc_free(o->path);
	aidc_outfile_init(o);
	return 0;
}

void aidc_outfile_abort(struct aidc_outfile *o)
{
	if (o->f && o->f != stdout)
		fclose(o->f);
	if (o->tmp)
		unlink(o->tmp);
	aidc_free(o->tmp);
	aidc_free(o->path);
	aidc_outfile_init(o);
}

int aidc_input_check(const char *path, struct aidc_err *e)
{
	struct stat st;
	if (!path || strcmp(path, "-") == 0 || stat(path, &st) != 0)
		return 0; /* the reader's open names a missing file */
	if (S_ISDIR(st.st_mode))
		return aidc_errf(e, AIDC_E_IO, "%s: is a directory, not a file", path);
	return 0;
}
