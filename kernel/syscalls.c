/* SPDX-License-Identifier: MIT */
/* syscalls.c - the system calls newlib's libc needs, for a kernel with one console and no files.
 *
 * newlib is configured with --disable-newlib-supplied-syscalls, so its reentrant wrappers
 * (_write_r and friends) call these plain names. Only the serial console exists: file descriptors
 * 0-2 are it, everything else is EBADF. sbrk lives with the heap (mm/heap.c), _exit with the exit
 * path (kernel/exit.c).
 */
#define _POSIX_C_SOURCE 200809L /* for kill() and friends in newlib's headers */
#include <errno.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <signal.h>
#include <unistd.h>

#include "kernel/console.h"
#include "kernel/spinlock.h"

struct _reent;
void __malloc_lock(struct _reent *r);
void __malloc_unlock(struct _reent *r);

/* newlib's malloc takes this around every heap change (recursive by its contract); ours replaces
 * libc's empty one, so the heap is safe on every CPU. */
static struct spinlock heap_lock = SPINLOCK_INIT;
void __malloc_lock(struct _reent *r)
{
    (void)r;
    spin_lock_recursive(&heap_lock);
}
void __malloc_unlock(struct _reent *r)
{
    (void)r;
    spin_unlock_recursive(&heap_lock);
}

/* One write at a time on the console: a line from one CPU is not cut by another's. Recursive, so
 * a CPU that faults while writing can still print its panic. */
static struct spinlock console_lock = SPINLOCK_INIT;

#undef errno
extern int errno;

static int is_console(int fd) { return fd >= 0 && fd <= 2; }

int write(int fd, const void *buf, size_t len)
{
    if (!is_console(fd)) {
        errno = EBADF;
        return -1;
    }
    spin_lock_recursive(&console_lock);
    console_write(buf, len);
    spin_unlock_recursive(&console_lock);
    return (int)len;
}

int read(int fd, void *buf, size_t len)
{
    (void)buf;
    (void)len;
    if (!is_console(fd)) {
        errno = EBADF;
        return -1;
    }
    return 0; /* the console has no input: end of file */
}

int close(int fd)
{
    if (!is_console(fd)) {
        errno = EBADF;
        return -1;
    }
    return 0;
}

int fstat(int fd, struct stat *st)
{
    if (!is_console(fd)) {
        errno = EBADF;
        return -1;
    }
    st->st_mode = S_IFCHR; /* a character device: newlib then treats it as a tty */
    return 0;
}

int isatty(int fd) { return is_console(fd); }

off_t lseek(int fd, off_t off, int whence)
{
    (void)fd;
    (void)off;
    (void)whence;
    errno = ESPIPE;
    return -1;
}

int getpid(void) { return 1; }

int kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    errno = EINVAL;
    return -1;
}
