/*
 * secrets: plain files and POSIX calls. Every function finds the directory
 * afresh from the environment, so a test (or a user) that changes
 * XDG_CONFIG_HOME between calls is followed.
 */
#include "secrets.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRETS_DIR "arcade"
#define SECRETS_SUFFIX ".secret"

/* $XDG_CONFIG_HOME/arcade, or ~/.config/arcade: the XDG rules ignore a relative XDG_CONFIG_HOME. */
static int config_dir(char *out, size_t cap, char *err, size_t errlen)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    int n;
    if (xdg != NULL && xdg[0] == '/') {
        n = snprintf(out, cap, "%s/%s", xdg, SECRETS_DIR);
    } else {
        const char *home = getenv("HOME");
        if (home == NULL || home[0] != '/') {
            struct passwd *pw = getpwuid(getuid());
            home = pw != NULL ? pw->pw_dir : NULL;
        }
        if (home == NULL || home[0] != '/') {
            snprintf(err, errlen, "no home directory to keep secrets in (set HOME or XDG_CONFIG_HOME)");
            return -1;
        }
        n = snprintf(out, cap, "%s/.config/%s", home, SECRETS_DIR);
    }
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, errlen, "the directory for secrets has too long a path");
        return -1;
    }
    return 0;
}

/* "name@host:port" in lower case; a host byte that is not a plain one is written %XX, so no host
 * makes a path of its own. */
static int file_key(const char *host, int port, const char *name, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = name; *p != '\0' && o < cap; p++) {
        out[o++] = (char)tolower((unsigned char)*p);
    }
    if (o < cap) {
        out[o++] = '@';
    }
    for (const unsigned char *p = (const unsigned char *)host; *p != '\0' && o + 3 < cap; p++) {
        if (isalnum(*p) || strchr(".-_:[]", *p) != NULL) {
            out[o++] = (char)tolower(*p);
        } else {
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", *p);
        }
    }
    int n = o < cap ? snprintf(out + o, cap - o, ":%d", port) : -1;
    return n < 0 || (size_t)n >= cap - o ? -1 : 0;
}

int secrets_path(const char *host, int port, const char *name, char *out, size_t cap, char *err, size_t errlen)
{
    char dir[SECRETS_PATH_MAX], key[1024];
    if (config_dir(dir, sizeof(dir), err, errlen) < 0) {
        return -1;
    }
    int n = -1;
    if (file_key(host, port, name, key, sizeof(key)) == 0) {
        n = snprintf(out, cap, "%s/%s%s", dir, key, SECRETS_SUFFIX);
    }
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, errlen, "the secret's file would have too long a path");
        return -1;
    }
    return 0;
}

/* mkdir -p, each missing directory 0700 as the XDG rules ask. */
static int make_dirs(char *dir, char *err, size_t errlen)
{
    for (char *s = strchr(dir + 1, '/');; s = strchr(s + 1, '/')) {
        if (s != NULL) {
            *s = '\0';
        }
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
        if (s == NULL) {
            return 0;
        }
        *s = '/';
    }
}

/* The directory, with group and others shut out; with create, made first if missing. */
static int open_dir(int create, char *dir, size_t cap, char *err, size_t errlen)
{
    struct stat st;
    if (config_dir(dir, cap, err, errlen) < 0 || (create && make_dirs(dir, err, errlen) < 0)) {
        return -1;
    }
    if (stat(dir, &st) < 0) {
        snprintf(err, errlen, "cannot use %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "cannot use %s: not a directory", dir);
        return -1;
    }
    if ((st.st_mode & 077) != 0 && chmod(dir, st.st_mode & 0700) < 0) {
        snprintf(err, errlen, "cannot make %s private: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* The secret in an open file, made private first: 0, or -1 (err filled). */
static int read_secret(int fd, const char *path, char secret[WIRE_SECRET_LEN + 1], char *err, size_t errlen)
{
    char buf[WIRE_SECRET_LEN + 4];
    struct stat st;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cannot read %s: not a plain file", path);
        return -1;
    }
    if ((st.st_mode & 077) != 0 && fchmod(fd, 0600) < 0) {
        snprintf(err, errlen, "cannot make %s private: %s", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    if (!wire_valid_secret(buf, (size_t)n)) {
        snprintf(err, errlen, "%s does not hold a secret (%d lowercase hex digits)", path, WIRE_SECRET_LEN);
        return -1;
    }
    memcpy(secret, buf, WIRE_SECRET_LEN);
    secret[WIRE_SECRET_LEN] = '\0';
    return 0;
}

int secrets_load(const char *host, int port, const char *name, char secret[WIRE_SECRET_LEN + 1], char *err,
                 size_t errlen)
{
    char path[SECRETS_PATH_MAX], dir[SECRETS_PATH_MAX];
    if (secrets_path(host, port, name, path, sizeof(path), err, errlen) < 0) {
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        return 0;
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = read_secret(fd, path, secret, err, errlen);
    close(fd);
    /* The file is private; so must its directory be. */
    return rc < 0 || open_dir(0, dir, sizeof(dir), err, errlen) < 0 ? -1 : 1;
}

int secrets_ready(char *err, size_t errlen)
{
    char dir[SECRETS_PATH_MAX];
    if (open_dir(1, dir, sizeof(dir), err, errlen) < 0) {
        return -1;
    }
    if (access(dir, W_OK | X_OK) < 0) {
        snprintf(err, errlen, "cannot keep secrets in %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* A rename or an unlink lasts once the directory is synced too. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int secrets_save(const char *host, int port, const char *name, const char *secret, char *err, size_t errlen)
{
    char path[SECRETS_PATH_MAX], dir[SECRETS_PATH_MAX], tmp[SECRETS_PATH_MAX + 16], line[WIRE_SECRET_LEN + 1];
    size_t len = strlen(secret);
    if (!wire_valid_secret(secret, len)) {
        snprintf(err, errlen, "not a secret: %zu bytes", len);
        return -1;
    }
    if (secrets_path(host, port, name, path, sizeof(path), err, errlen) < 0 ||
        open_dir(1, dir, sizeof(dir), err, errlen) < 0) {
        return -1;
    }
    /* The temporary file starts with a dot next to the real one; mkstemp makes it 0600. */
    const char *base = strrchr(path, '/') + 1;
    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write in %s: %s", dir, strerror(errno));
        return -1;
    }
    memcpy(line, secret, len);
    line[len] = '\n';
    int ok = write(fd, line, len + 1) == (ssize_t)(len + 1) && fsync(fd) == 0;
    int e = errno;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, path) == 0) {
        sync_dir(dir);
        return 0;
    }
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(ok ? errno : e));
    unlink(tmp);
    return -1;
}

int secrets_drop(const char *host, int port, const char *name, char *err, size_t errlen)
{
    char path[SECRETS_PATH_MAX];
    if (secrets_path(host, port, name, path, sizeof(path), err, errlen) < 0) {
        return -1;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    *strrchr(path, '/') = '\0';
    sync_dir(path);
    return 0;
}
