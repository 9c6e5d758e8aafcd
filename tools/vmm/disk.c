/* SPDX-License-Identifier: MIT */
/* disk.c - raw disk image file (see disk.h). */
#define _GNU_SOURCE
#include "tools/vmm/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/vmm/log.h"

int disk_open(struct disk *d, const char *path, bool read_only)
{
    memset(d, 0, sizeof(*d));
    d->read_only = read_only;
    d->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (d->fd < 0 && !read_only && (errno == EACCES || errno == EROFS || errno == EPERM)) {
        vmm_info("disk %s is not writable (%s): attached read-only", path, strerror(errno));
        d->read_only = true;
        d->fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (d->fd < 0) {
        vmm_info("error: cannot open disk %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int fstat_rc = fstat(d->fd, &st);
    if (fstat_rc != 0 || st.st_size < 512) {
        vmm_info("error: disk %s: %s", path, fstat_rc != 0 ? strerror(errno) : "smaller than one sector");
        close(d->fd);
        d->fd = -1;
        return -1;
    }
    d->sectors = (uint64_t)st.st_size / 512;
    if (st.st_size % 512)
        vmm_info("disk %s: %lld bytes are not whole sectors; the last %lld are not used", path, (long long)st.st_size,
                 (long long)(st.st_size % 512));
    return 0;
}

/* All of [off, off + len), across short transfers and EINTR; an error or end of file is -1. */
static int full_io(int fd, bool write, uint64_t off, uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write ? pwrite(fd, p, len, (off_t)off) : pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n, off += (uint64_t)n, len -= (size_t)n;
    }
    return 0;
}

static int do_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    return full_io(((struct disk *)ctx)->fd, false, off, buf, len);
}

static int do_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    return full_io(((struct disk *)ctx)->fd, true, off, (uint8_t *)buf, len); /* pwrite only reads it */
}

static int do_flush(void *ctx)
{
    struct disk *d = ctx;
    return d->read_only || fdatasync(d->fd) == 0 ? 0 : -1;
}

struct vblk_backend disk_backend(struct disk *d)
{
    return (struct vblk_backend){.ctx = d, .read = do_read, .write = do_write, .flush = do_flush};
}
