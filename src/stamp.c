/* stamp.c: what every table file and directory looked like when portbind
 * read it, and whether it still does (load_unchanged(), after the binds):
 * a grant stands only on the table as it is when the sockets exist. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "portbind.h"

/* Remember path as st describes it (NULL: it did not exist). */
void load_stamp(struct table *t, const char *path, const struct stat *st)
{
	struct stamp *v = realloc(t->stamps, (t->nstamps + 1) * sizeof(*v));
	char *copy;

	if (!v) {
		table_error(t, "out of memory");
		return;
	}
	t->stamps = v;
	copy = strdup(path);
	if (!copy) {
		table_error(t, "out of memory");
		return;
	}
	memset(&t->stamps[t->nstamps], 0, sizeof(*v));
	t->stamps[t->nstamps].path = copy;
	if (st) {
		t->stamps[t->nstamps].dev = st->st_dev;
		t->stamps[t->nstamps].ino = st->st_ino;
		t->stamps[t->nstamps].size = st->st_size;
		t->stamps[t->nstamps].mtim = st->st_mtim;
		t->stamps[t->nstamps].ctim = st->st_ctim;
	}
	t->nstamps++;
}

/* Is every file and directory of the table still as it was read? Any
 * change to a file's content or mode changes its ctime, a rename over it
 * its inode, and an entry added to or removed from portbind.d the
 * directory's mtime. */
bool load_unchanged(const struct table *t)
{
	for (size_t i = 0; i < t->nstamps; i++) {
		const struct stamp *p = &t->stamps[i];
		struct stat st;
		if (lstat(p->path, &st) != 0) {
			if (errno == ENOENT && p->dev == 0 && p->ino == 0)
				continue;
			return false;
		}
		if (st.st_dev != p->dev || st.st_ino != p->ino || st.st_size != p->size ||
		    st.st_mtim.tv_sec != p->mtim.tv_sec || st.st_mtim.tv_nsec != p->mtim.tv_nsec ||
		    st.st_ctim.tv_sec != p->ctim.tv_sec || st.st_ctim.tv_nsec != p->ctim.tv_nsec)
			return false;
	}
	return true;
}
