/*
 * screen: raw mode is entered once and undone from every way out: a normal
 * return, exit() (atexit), a signal (the caller's handler calls
 * screen_restore) and Ctrl-Z (restored before stopping, raw again on
 * resume). Only c_lflag and the read timing change, so output processing
 * (newline to CR-LF) keeps working.
 */
#include "screen.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;    /* the settings found at screen_raw */
static int raw_fd = -1;         /* the terminal in raw mode, or -1 */
static int saved_fd = -1;       /* the terminal whose settings are saved */

static int term_dumb(void)
{
    const char *t = getenv("TERM");
    return t == NULL || t[0] == '\0' || strcmp(t, "dumb") == 0;
}

int screen_fancy(int fd)
{
    return isatty(fd) && !term_dumb();
}

int screen_colour(int fd)
{
    const char *nc = getenv("NO_COLOR");
    return screen_fancy(fd) && (nc == NULL || nc[0] == '\0');
}

void screen_restore(void)
{
    if (raw_fd >= 0) {
        tcsetattr(raw_fd, TCSANOW, &saved);
        raw_fd = -1;
    }
}

static int set_raw(int fd)
{
    struct termios t = saved;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &t) < 0) {
        return -1;
    }
    raw_fd = fd;
    return 0;
}

int screen_raw(int fd)
{
    static int registered;

    if (tcgetattr(fd, &saved) < 0) {
        return -1;
    }
    saved_fd = fd;
    if (!registered) {
        atexit(screen_restore);
        registered = 1;
    }
    return set_raw(fd);
}

void screen_reraw(void)
{
    if (saved_fd >= 0 && raw_fd < 0) {
        set_raw(saved_fd);
    }
}

void screen_init(struct screen *s, FILE *out, int colour, int fancy)
{
    memset(s, 0, sizeof(*s));
    s->out = out;
    s->colour = colour;
    s->fancy = fancy;
}

static void erase_status(struct screen *s)
{
    if (!s->shown) {
        return;
    }
    if (s->fancy) {
        fputs("\r\033[K", s->out);
    } else {
        fprintf(s->out, "\r%*s\r", s->shown_len, "");
    }
    s->shown = 0;
}

int screen_width(const struct screen *s)
{
    struct winsize ws;
    if (ioctl(fileno(s->out), TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0) {
        return 0;
    }
    return ws.ws_col;
}

/* The status line never reaches the last column: a line that wrapped would leave its first row
 * behind at the next redraw, since "\r" and erase-line reach back only to the start of the row the
 * cursor is on, and a terminal that has just filled its last column may wrap at the next byte. */
static void draw_status(struct screen *s)
{
    if (s->status[0] == '\0') {
        return;
    }
    int len = (int)strlen(s->status);
    int width = screen_width(s);
    if (width > 0 && len > width - 1) {
        len = width - 1;
    }
    fprintf(s->out, "%s%.*s%s", s->colour ? "\033[2m" : "", len, s->status, s->colour ? "\033[0m" : "");
    s->shown = 1;
    s->shown_len = len;
}

static const char *tone_sgr(enum screen_tone tone)
{
    static const char *sgr[] = {
        [SCREEN_PLAIN] = "", [SCREEN_WIN] = "\033[32m", [SCREEN_LOSS] = "\033[31m",
        [SCREEN_DRAW] = "\033[33m", [SCREEN_NOTE] = "\033[36m", [SCREEN_ALERT] = "\033[1;31m",
    };
    return sgr[tone];
}

void screen_line(struct screen *s, enum screen_tone tone, const char *text)
{
    erase_status(s);
    int coloured = s->colour && tone != SCREEN_PLAIN;
    fprintf(s->out, "%s%s%s\n", coloured ? tone_sgr(tone) : "", text, coloured ? "\033[0m" : "");
    draw_status(s);
    fflush(s->out);
}

void screen_status(struct screen *s, const char *text)
{
    erase_status(s);
    snprintf(s->status, sizeof(s->status), "%s", text);
    draw_status(s);
    fflush(s->out);
}

void screen_clear(struct screen *s)
{
    erase_status(s);
    s->status[0] = '\0';
    fflush(s->out);
}
