// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * zert_out.c - NDJSON files with size/time rotation and retention (see
 * zert_out.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "zert_out.h"

/* Rotated files looked at by retention, at most: enough for years of
 * daily files; more are left alone (and logged). */
#define ZERT_OUT_MAX_FILES	4096

struct zert_out {
	struct zert_out_opts opts;
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];
	int fd;
	uint64_t size;
	time_t opened;			/* when the active file was started */
	time_t last_retention;
	char *batch;			/* ZERT_OUT_BATCH bytes: lines not written yet */
	size_t blen;
	unsigned blines;
	struct zert_out_stats st;	/* since zert_out_take_stats() */
};

static int open_active(struct zert_out *o)
{
	struct stat st;
	int fd, err;

	fd = open(o->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		err = -errno;
		log_warn("zERT file %s", o->path);
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	o->fd = fd;
	o->size = (uint64_t)st.st_size;
	/* an existing file's age counts from its creation-ish time */
	o->opened = st.st_size ? st.st_mtime < st.st_ctime ? st.st_mtime :
		    st.st_ctime : time(NULL);
	return 0;
}

int zert_out_open(const char *dir, const struct zert_out_opts *opts,
		  struct zert_out **out)
{
	struct zert_out *o;
	int err;

	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->fd = -1;
	if (opts)
		o->opts = *opts;
	o->batch = malloc(ZERT_OUT_BATCH);
	if (!o->batch) {
		err = -ENOMEM;
		goto free_o;
	}
	if (snprintf(o->dir, sizeof(o->dir), "%s", dir) >= (int)sizeof(o->dir)) {
		err = -ENAMETOOLONG;
		goto free_o;
	}
	snprintf(o->path, sizeof(o->path), "%s/" ZERT_OUT_ACTIVE, o->dir);
	if (mkdir(dir, 0750) && errno != EEXIST) {
		err = -errno;
		log_warn("zERT directory %s", dir);
		goto free_o;
	}
	err = open_active(o);
	if (err)
		goto free_o;
	*out = o;
	return 0;
free_o:
	free(o->batch);
	free(o);
	return err;
}

void zert_out_close(struct zert_out *o)
{
	if (!o)
		return;
	zert_out_flush(o);
	if (o->fd >= 0)
		close(o->fd);
	free(o->batch);
	free(o);
}

const char *zert_out_path(const struct zert_out *o)
{
	return o->path;
}

const char *zert_out_dir(const struct zert_out *o)
{
	return o->dir;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is `name` a rotated file: zert-<anything>.ndjson? */
static int rotated_name(const char *name)
{
	size_t n = strlen(name), p = strlen(ZERT_OUT_PREFIX),
	       s = strlen(ZERT_OUT_SUFFIX);

	return n > p + s && !strncmp(name, ZERT_OUT_PREFIX, p) &&
	       !strcmp(name + n - s, ZERT_OUT_SUFFIX);
}

/* Delete rotated files beyond `keep` (oldest first: names sort by time)
 * and those older than retention_days. */
static void retention(struct zert_out *o, time_t now)
{
	char *names[ZERT_OUT_MAX_FILES], path[PATH_MAX + 300];
	size_t n = 0, i, del;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (!o->opts.keep && !o->opts.retention_days)
		return;
	d = opendir(o->dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!rotated_name(de->d_name))
			continue;
		if (n == ZERT_OUT_MAX_FILES) {
			log_warnx("zERT: more than %d rotated files in %s; "
				  "retention looks at the first %d",
				  ZERT_OUT_MAX_FILES, o->dir, ZERT_OUT_MAX_FILES);
			break;
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	del = o->opts.keep && n > o->opts.keep ? n - o->opts.keep : 0;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", o->dir, names[i]);
		if (i >= del && o->opts.retention_days &&
		    !stat(path, &st) && now - st.st_mtime >
		    (time_t)o->opts.retention_days * 86400)
			del = i + 1;
		if (i < del) {
			if (unlink(path) && errno != ENOENT)
				log_warn("zERT retention: removing %s", path);
			else
				log_info("zERT retention: removed %s", path);
		}
		free(names[i]);
	}
}

int zert_out_rotate(struct zert_out *o)
{
	char name[PATH_MAX + 64];
	struct tm tm;
	time_t now = time(NULL);
	int i, err;

	/* what is queued belongs to the file being rotated */
	zert_out_flush(o);
	gmtime_r(&now, &tm);
	for (i = 0; i < 1000; i++) {
		/* always a sequence number: names sort in rotation order
		 * also within one second */
		snprintf(name, sizeof(name),
			 "%s/" ZERT_OUT_PREFIX "%04d%02d%02dT%02d%02d%02dZ-%03d"
			 ZERT_OUT_SUFFIX, o->dir, tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, i);
		if (access(name, F_OK))
			break;
	}
	if (i == 1000)
		return -EEXIST;
	/* link, not rename: a crash in between leaves the records in both
	 * names rather than in neither */
	if (link(o->path, name)) {
		err = -errno;
		log_warn("zERT: rotating %s to %s", o->path, name);
		return err;
	}
	if (unlink(o->path)) {
		err = -errno;
		log_warn("zERT: rotating %s", o->path);
		unlink(name);
		return err;
	}
	close(o->fd);
	o->fd = -1;
	err = open_active(o);
	if (err)
		return err;
	log_info("zERT: rotated to %s", name);
	retention(o, now);
	o->last_retention = now;
	return 0;
}

/* Write `len` bytes holding `lines` whole lines; count them as written
 * or lost. */
static void write_lines(struct zert_out *o, const char *p, size_t len,
			unsigned lines)
{
	size_t off = 0;
	ssize_t n;
	const char *nl;

	if (!len)
		return;
	if (o->fd < 0 && open_active(o)) {
		o->st.lost += lines;
		o->st.err = -EBADF;
		return;
	}
	while (off < len) {
		n = write(o->fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* a short write then 0 or ENOSPC: the disk is full */
			o->st.err = n < 0 ? -errno : -ENOSPC;
			break;
		}
		off += (size_t)n;
		o->size += (uint64_t)n;
	}
	if (off == len) {
		o->st.written += lines;
		return;
	}
	/* the lines whose '\n' made it are in the file; the rest are lost
	 * (the first of them possibly in part, as a single write() of it
	 * could also have left it) */
	for (nl = p; (nl = memchr(nl, '\n', off - (size_t)(nl - p))); nl++) {
		o->st.written++;
		lines--;
	}
	o->st.lost += lines;
}

void zert_out_flush(struct zert_out *o)
{
	write_lines(o, o->batch, o->blen, o->blines);
	o->blen = 0;
	o->blines = 0;
}

void zert_out_append(struct zert_out *o, const char *line, size_t len)
{
	uint64_t total = o->size + o->blen;

	if (o->opts.max_bytes && total && total + len > o->opts.max_bytes)
		zert_out_rotate(o);	/* flushes the batch first */
	if (o->blen + len > ZERT_OUT_BATCH)
		zert_out_flush(o);
	if (len > ZERT_OUT_BATCH) {
		write_lines(o, line, len, 1);	/* does not fit a batch */
		return;
	}
	memcpy(o->batch + o->blen, line, len);
	o->blen += len;
	o->blines++;
}

void zert_out_take_stats(struct zert_out *o, struct zert_out_stats *st)
{
	*st = o->st;
	memset(&o->st, 0, sizeof(o->st));
}

void zert_out_tick(struct zert_out *o, time_t now)
{
	if (o->opts.max_age && o->size && now - o->opened >= (time_t)o->opts.max_age)
		zert_out_rotate(o);
	/* retention also runs without rotations: days pass */
	if (now - o->last_retention >= 3600) {
		retention(o, now);
		o->last_retention = now;
	}
}
