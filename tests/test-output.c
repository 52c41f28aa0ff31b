/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output capture. The splitter and the ring on tables and against a model
 * (no root, no I/O); then files (rotation, reopen, the open checks),
 * corrald's terminal and a unit's pipes in a real sd-event loop, in a
 * temporary directory. Needs no root. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <regex.h>
#include <string.h>
#include <sys/stat.h>

#include "control-logs.h"
#include "logs.h"
#include "output.h"
#include "output-json.h"
#include "strv.h"
#include "utf8-bytes.h"

/* ---- the splitter ---- */

typedef struct Got {
        char text[16][64];
        unsigned flags[16];
        size_t n;
} Got;

static int collect(const char *text, size_t len, unsigned flags, void *userdata) {
        Got *g = userdata;

        assert_true(g->n < ELEMENTSOF(g->text));
        assert_true(len < sizeof(g->text[0]));
        memcpy(g->text[g->n], text, len);
        g->text[g->n][len] = '\0';
        g->flags[g->n++] = flags;
        return 0;
}

#define S OUTPUT_LINE_SPLIT
#define NN OUTPUT_LINE_NO_NEWLINE

static const struct {
        const char *chunks[4]; /* fed in turn; then a flush */
        size_t line_max;
        const char *lines[8];
        unsigned flags[8];
} split_cases[] = {
        { { "a\nb\n" }, 4, { "a", "b" }, { 0, 0 } },
        { { "ab", "c\n" }, 4, { "abc" }, { 0 } },
        { { "\n\n" }, 4, { "", "" }, { 0, 0 } },
        { { "" }, 4, {}, {} },
        { { "abc" }, 4, { "abc" }, { NN } },
        { { "abcd\n" }, 4, { "abcd" }, { 0 } }, /* exactly line_max: whole */
        { { "abcde\n" }, 4, { "abcd", "e" }, { S, 0 } },
        { { "abcdefgh\n" }, 4, { "abcd", "efgh" }, { S, 0 } }, /* the last piece ends the line */
        { { "abcdefghij\n" }, 4, { "abcd", "efgh", "ij" }, { S, S, 0 } },
        { { "ab", "cd", "ef", "\n" }, 4, { "abcd", "ef" }, { S, 0 } },
        { { "abcd" }, 4, { "abcd" }, { NN } }, /* full, then the end */
        { { "abcdabcdx" }, 4, { "abcd", "abcd", "x" }, { S, S, NN } },
        { { "abcd", "\n" }, 4, { "abcd" }, { 0 } },
        { { "x\nabcdefgh" }, 4, { "x", "abcd", "efgh" }, { 0, S, NN } },
        { { "r\r\n" }, 4, { "r\r" }, { 0 } }, /* only '\n' ends a line */
};

/* Feeds the chunks as given, or byte by byte: the lines must not depend on
 * how the bytes arrive. */
static void run_split_case(size_t i, bool bytewise) {
        OutputSplitter s = OUTPUT_SPLITTER_INIT(split_cases[i].line_max);
        Got g = {};
        size_t k;

        for (size_t c = 0; c < ELEMENTSOF(split_cases[i].chunks) && split_cases[i].chunks[c]; c++) {
                const char *p = split_cases[i].chunks[c];
                if (bytewise)
                        for (; *p; p++)
                                assert_int_equal(output_splitter_feed(&s, p, 1, collect, &g), 0);
                else
                        assert_int_equal(output_splitter_feed(&s, p, strlen(p), collect, &g), 0);
        }
        assert_true(output_splitter_flush(&s, collect, &g) >= 0);
        for (k = 0; k < ELEMENTSOF(split_cases[i].lines) && split_cases[i].lines[k]; k++) {
                assert_true(k < g.n);
                assert_string_equal(g.text[k], split_cases[i].lines[k]);
                assert_int_equal(g.flags[k], split_cases[i].flags[k]);
        }
        assert_int_equal(g.n, k);
        assert_int_equal(output_splitter_flush(&s, collect, &g), 0); /* nothing left */
        output_splitter_done(&s);
}

static void test_splitter(_unused_ void **state) {
        for (size_t i = 0; i < ELEMENTSOF(split_cases); i++) {
                print_message("case %zu\n", i);
                run_split_case(i, /* bytewise= */ false);
                run_split_case(i, /* bytewise= */ true);
        }
}

static int fail_on_second(const char *text, size_t len, unsigned flags, void *userdata) {
        unsigned *n = userdata;
        return ++*n == 2 ? -ENOSPC : 0;
}

static void test_splitter_handler_error(_unused_ void **state) {
        OutputSplitter s = OUTPUT_SPLITTER_INIT(8);
        unsigned n = 0;

        assert_int_equal(output_splitter_feed(&s, "a\nb\nc\n", 6, fail_on_second, &n), -ENOSPC);
        assert_int_equal(n, 2);
        output_splitter_done(&s);
}

/* NUL bytes are data like any other. */
static void test_splitter_nul(_unused_ void **state) {
        OutputSplitter s = OUTPUT_SPLITTER_INIT(8);
        Got g = {};

        assert_int_equal(output_splitter_feed(&s, "a\0b\n", 4, collect, &g), 0);
        assert_int_equal(g.n, 1);
        assert_memory_equal(g.text[0], "a\0b", 3);
        output_splitter_done(&s);
}

/* ---- the ring ---- */

static OutputLine line_of(const char *text, usec_t t, OutputStream s) {
        return (OutputLine) { .timestamp = t, .stream = s, .text = text, .len = strlen(text) };
}

static void test_ring_basic(_unused_ void **state) {
        OutputRing r;
        OutputRingIter it;
        OutputLine l, in;
        uint64_t seq;

        assert_int_equal(output_ring_init(&r, OUTPUT_RING_MIN - 1), -EINVAL);
        assert_int_equal(output_ring_init(&r, OUTPUT_RING_MIN), 0);
        assert_null(r.buf); /* no memory until the first line */
        assert_int_equal(output_ring_line_max(&r), OUTPUT_RING_MIN / 4);

        output_ring_iter_init(&r, SIZE_MAX, 0, &it);
        assert_false(output_ring_iter_next(&it, &l));

        in = line_of("hello", 100, OUTPUT_STDOUT);
        assert_int_equal(output_ring_append(&r, &in, &seq), 0);
        assert_int_equal(seq, 0);
        in = line_of("oops", 200, OUTPUT_STDERR);
        in.flags = OUTPUT_LINE_NO_NEWLINE;
        assert_int_equal(output_ring_append(&r, &in, &seq), 0);
        assert_int_equal(seq, 1);
        assert_int_equal(output_ring_next_seq(&r), 2);

        output_ring_iter_init(&r, SIZE_MAX, 0, &it);
        assert_true(output_ring_iter_next(&it, &l));
        assert_int_equal(l.seq, 0);
        assert_int_equal(l.timestamp, 100);
        assert_int_equal(l.stream, OUTPUT_STDOUT);
        assert_int_equal(l.flags, 0);
        assert_int_equal(l.len, 5);
        assert_memory_equal(l.text, "hello", 5);
        assert_true(output_ring_iter_next(&it, &l));
        assert_int_equal(l.seq, 1);
        assert_int_equal(l.stream, OUTPUT_STDERR);
        assert_int_equal(l.flags, OUTPUT_LINE_NO_NEWLINE);
        assert_memory_equal(l.text, "oops", 4);
        assert_false(output_ring_iter_next(&it, &l));

        char big[OUTPUT_RING_MIN / 4 + 2];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        in = line_of(big, 300, OUTPUT_STDOUT);
        assert_int_equal(output_ring_append(&r, &in, /* ret_seq= */ NULL), -E2BIG);
        in.len--;
        assert_int_equal(output_ring_append(&r, &in, /* ret_seq= */ NULL), 0);
        output_ring_done(&r);
}

/* Lines "0" … "99" at times 0, 10, … 990. */
static void ring_fill_numbers(OutputRing *r) {
        char buf[16];

        for (unsigned i = 0; i < 100; i++) {
                snprintf(buf, sizeof(buf), "%u", i);
                OutputLine in = line_of(buf, i * 10, i % 3 == 0 ? OUTPUT_STDERR : OUTPUT_STDOUT);
                assert_int_equal(output_ring_append(r, &in, /* ret_seq= */ NULL), 0);
        }
}

static void test_ring_last_and_since(_unused_ void **state) {
        static const struct {
                size_t n;
                usec_t since;
                int first, count;
        } cases[] = {
                { SIZE_MAX, 0, 0, 100 },  { 10, 0, 90, 10 },         { 1, 0, 99, 1 },     { 0, 0, -1, 0 },
                { 500, 0, 0, 100 },       { SIZE_MAX, 500, 50, 50 }, { 5, 500, 95, 5 },   { SIZE_MAX, 495, 50, 50 },
                { SIZE_MAX, 990, 99, 1 }, { SIZE_MAX, 991, -1, 0 },  { 100, 985, 99, 1 },
        };
        OutputRing r;

        assert_int_equal(output_ring_init(&r, 16 * 1024), 0);
        ring_fill_numbers(&r);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                OutputRingIter it;
                OutputLine l;
                int count = 0;

                output_ring_iter_init(&r, cases[i].n, cases[i].since, &it);
                while (output_ring_iter_next(&it, &l)) {
                        char buf[16];
                        int k = cases[i].first + count;
                        snprintf(buf, sizeof(buf), "%d", k);
                        assert_int_equal(l.len, strlen(buf));
                        assert_memory_equal(l.text, buf, l.len);
                        assert_int_equal(l.seq, (uint64_t) k);
                        assert_int_equal(l.timestamp, (usec_t) k * 10);
                        assert_int_equal(l.stream, k % 3 == 0 ? OUTPUT_STDERR : OUTPUT_STDOUT);
                        count++;
                }
                print_message("case %zu: %d lines\n", i, count);
                assert_int_equal(count, cases[i].count);
        }
        output_ring_done(&r);
}

/* Against a model: random lengths, thousands of appends. What the ring
 * holds is always the newest lines, in order, without a gap; their
 * records never take more than the ring, and never less than the ring
 * minus the two largest records (one wasted at the wrap, one not fitting). */
static void test_ring_eviction_model(_unused_ void **state) {
        static const size_t sizes[] = { OUTPUT_RING_MIN, 4100, 8192, 65536 };
        char text[OUTPUT_LINE_MAX_DEFAULT];

        srand(42);
        for (size_t z = 0; z < ELEMENTSOF(sizes); z++) {
                OutputRing r;
                size_t appended = 0;

                assert_int_equal(output_ring_init(&r, sizes[z]), 0);
                size_t max = output_ring_line_max(&r);
                for (unsigned round = 0; round < 5000; round++) {
                        size_t len = (size_t) rand() % (round % 7 == 0 ? max + 1 : 40);
                        memset(text, 'a' + (int) (appended % 26), len);
                        OutputLine in = { .timestamp = appended, .text = text, .len = len };
                        assert_int_equal(output_ring_append(&r, &in, /* ret_seq= */ NULL), 0);
                        appended++;

                        OutputRingIter it;
                        OutputLine l;
                        uint64_t expect = appended - r.n_lines;
                        size_t bytes = 0;

                        output_ring_iter_init(&r, SIZE_MAX, 0, &it);
                        while (output_ring_iter_next(&it, &l)) {
                                assert_int_equal(l.seq, expect);
                                assert_int_equal(l.timestamp, expect);
                                assert_true(l.len == 0 || l.text[0] == 'a' + (int) (expect % 26));
                                bytes += OUTPUT_RING_HEADER + ((l.len + 7) & ~(size_t) 7);
                                expect++;
                        }
                        assert_int_equal(expect, appended);
                        assert_true(bytes <= r.size);
                        assert_true(bytes + 2 * (OUTPUT_RING_HEADER + max + 8) >= r.size || r.evicted == 0);
                        assert_int_equal(r.evicted, appended - r.n_lines);
                }
                output_ring_done(&r);
        }
}

/* ---- text for JSON ---- */

static void test_text_utf8(_unused_ void **state) {
        static const struct {
                const char *in;
                size_t len;
                const char *out;
        } cases[] = {
                { "plain", 5, "plain" },
                { "", 0, "" },
                { "caf\xc3\xa9", 5, "caf\xc3\xa9" },
                { "\xe2\x82\xac 5", 5, "\xe2\x82\xac 5" },
                { "\xf0\x9f\x90\x84", 4, "\xf0\x9f\x90\x84" },
                { "a\0b", 3,
                  "a\xef\xbf\xbd"
                  "b" },
                { "\xff", 1, "\xef\xbf\xbd" },
                { "\xc3", 1, "\xef\xbf\xbd" },                                 /* cut sequence */
                { "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },                 /* overlong */
                { "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
                { "\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
                { "\x1b[31mred", 8, "\x1b[31mred" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = NULL;

                print_message("case %zu\n", i);
                assert_int_equal(utf8_sanitize(cases[i].in, cases[i].len, &s), 0);
                assert_string_equal(s, cases[i].out);
        }
}

static void test_stream_names(_unused_ void **state) {
        assert_string_equal(output_stream_to_string(OUTPUT_STDOUT), "stdout");
        assert_string_equal(output_stream_to_string(OUTPUT_STDERR), "stderr");
        assert_null(output_stream_to_string(_OUTPUT_STREAM_MAX));
        assert_int_equal(output_stream_from_string("stderr"), OUTPUT_STDERR);
        assert_int_equal(output_stream_from_string("err"), -EINVAL);
}

static void test_format_time(_unused_ void **state) {
        char buf[OUTPUT_TIME_MAX];

        assert_int_equal(output_format_time(buf, 0), 27);
        assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
        output_format_time(buf, 1795407358123456ULL);
        assert_string_equal(buf, "2026-11-23T04:15:58.123456Z");
}

/* ---- files ---- */

static char tmpdir[] = "/tmp/test-output-XXXXXX";

static char *tmp_path(const char *name) {
        char *p;
        assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
        return p;
}

static char *read_all(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char *buf;

        if (fd < 0)
                return NULL;
        assert_int_equal(fstat(fd, &st), 0);
        buf = malloc((size_t) st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(read(fd, buf, (size_t) st.st_size), st.st_size);
        buf[st.st_size] = '\0';
        return buf;
}

static off_t file_size(const char *path) {
        struct stat st;
        return stat(path, &st) < 0 ? -1 : st.st_size;
}

static void test_file_plain(_unused_ void **state) {
        _cleanup_free_ char *path = tmp_path("plain.log"), *text = NULL;
        OutputFile *f = NULL;
        OutputLine l = line_of("abcd", 0, OUTPUT_STDOUT);

        assert_int_equal(output_file_open(path, /* max_size= */ 0, 1, /* timestamps= */ false, &f), 0);
        l.flags = OUTPUT_LINE_SPLIT;
        assert_int_equal(output_file_write(f, &l), 0);
        l = line_of("ef", 0, OUTPUT_STDOUT);
        assert_int_equal(output_file_write(f, &l), 0);
        l = line_of("", 0, OUTPUT_STDERR);
        assert_int_equal(output_file_write(f, &l), 0);
        assert_int_equal(file_size(path), 0); /* buffered */
        assert_int_equal(output_file_flush(f), 0);
        f = output_file_free(f);
        text = read_all(path);
        assert_string_equal(text, "abcdef\n\n"); /* split pieces joined again */
        unlink(path);
}

static void test_file_timestamps(_unused_ void **state) {
        _cleanup_free_ char *path = tmp_path("stamped.log"), *text = NULL;
        OutputFile *f = NULL;
        OutputLine l = line_of("first", 1795407358123456ULL, OUTPUT_STDOUT);

        assert_int_equal(output_file_open(path, 0, 1, /* timestamps= */ true, &f), 0);
        assert_int_equal(output_file_write(f, &l), 0);
        l = line_of("lo", 1795407359000000ULL, OUTPUT_STDOUT);
        l.flags = OUTPUT_LINE_SPLIT;
        assert_int_equal(output_file_write(f, &l), 0);
        l = line_of("ng", 1795407359000001ULL, OUTPUT_STDOUT);
        assert_int_equal(output_file_write(f, &l), 0);
        f = output_file_free(f); /* writes what is buffered */
        text = read_all(path);
        assert_string_equal(text,
                            "2026-11-23T04:15:58.123456Z first\n"
                            "2026-11-23T04:15:59.000000Z long\n");
        unlink(path);
}

static void test_file_open_checks(_unused_ void **state) {
        _cleanup_free_ char *link = tmp_path("link.log"), *target = tmp_path("target.log"), *fifo = tmp_path("fifo"),
                            *dir = tmp_path("dir");
        OutputFile *f = NULL;

        assert_int_equal(output_file_open("relative.log", 0, 1, true, &f), -EINVAL);
        assert_int_equal(output_file_open(target, 1024, 1, true, &f), -EINVAL); /* below the minimum */
        assert_int_equal(output_file_open(target, 0, 0, true, &f), -EINVAL);
        assert_int_equal(output_file_open(target, 0, OUTPUT_FILE_MAX_FILES_MAX + 1, true, &f), -EINVAL);
        assert_int_equal(symlink(target, link), 0);
        assert_int_equal(output_file_open(link, 0, 1, true, &f), -ELOOP);
        assert_int_equal(file_size(target), -1); /* not created through the link */
        assert_int_equal(output_file_open("/dev/null", 0, 1, true, &f), -EBADFD);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(output_file_open(fifo, 0, 1, true, &f), -EBADFD); /* no reader; never blocks */
        assert_int_equal(mkdir(dir, 0700), 0);
        assert_int_equal(output_file_open(dir, 0, 1, true, &f), -EISDIR);
        assert_null(f);
        unlink(link);
        unlink(fifo);
        rmdir(dir);
}

/* Writes bytes worth of 100-byte lines numbered from 0. */
static void write_numbered(OutputFile *f, size_t bytes) {
        char buf[128];

        for (size_t i = 0; i < bytes / 100; i++) {
                snprintf(buf, sizeof(buf), "%08zu %090d", i, 0);
                OutputLine l = line_of(buf, 0, OUTPUT_STDOUT);
                assert_int_equal(l.len, 99);
                assert_int_equal(output_file_write(f, &l), 0);
        }
        assert_int_equal(output_file_flush(f), 0);
}

static void test_file_rotation(_unused_ void **state) {
        static const unsigned max_files[] = { 1, 2, 4 };
        const uint64_t max = OUTPUT_FILE_MAX_SIZE_MIN;

        for (size_t k = 0; k < ELEMENTSOF(max_files); k++) {
                _cleanup_free_ char *path = tmp_path("rot.log");
                OutputFile *f = NULL;

                assert_int_equal(output_file_open(path, max, max_files[k], /* timestamps= */ false, &f), 0);
                write_numbered(f, 5 * max);
                f = output_file_free(f);
                for (unsigned i = 0; i < max_files[k] + 2; i++) {
                        _cleanup_free_ char *p = NULL;
                        assert_true(asprintf(&p, i == 0 ? "%s" : "%s.%u", path, i) > 0);
                        off_t size = file_size(p);
                        print_message("max_files %u: %s %lld bytes\n", max_files[k], p, (long long) size);
                        if (i < max_files[k]) {
                                /* full files, but never past the limit */
                                assert_true(size > 0 && (uint64_t) size <= max);
                                assert_true(i == 0 || (uint64_t) size > max - 100);
                        } else
                                assert_int_equal(size, -1);
                        unlink(p);
                }
        }
}

static void test_file_rotation_newest(_unused_ void **state) {
        _cleanup_free_ char *path = tmp_path("new.log"), *one = tmp_path("new.log.1"), *text = NULL, *old = NULL;
        OutputFile *f = NULL;
        size_t lines = 5 * OUTPUT_FILE_MAX_SIZE_MIN / 100;
        char last[16], first_kept[16];

        assert_int_equal(output_file_open(path, OUTPUT_FILE_MAX_SIZE_MIN, 2, false, &f), 0);
        write_numbered(f, 5 * OUTPUT_FILE_MAX_SIZE_MIN);
        f = output_file_free(f);
        text = read_all(path);
        old = read_all(one);
        snprintf(last, sizeof(last), "%08zu ", lines - 1);
        /* PATH ends with the newest line; PATH.1 goes on right before PATH */
        assert_non_null(strstr(text, last));
        assert_int_equal(strlen(text) % 100, 0);
        snprintf(first_kept, sizeof(first_kept), "%08zu ", lines - 1 - strlen(text) / 100 - strlen(old) / 100 + 1);
        assert_memory_equal(old, first_kept, 9);
        assert_null(strstr(old, "00000000 ")); /* the oldest are gone */
        unlink(path);
        unlink(one);
}

static void test_file_reopen(_unused_ void **state) {
        _cleanup_free_ char *path = tmp_path("moved.log"), *moved = tmp_path("moved.log.old"), *a = NULL, *b = NULL;
        OutputFile *f = NULL;
        OutputLine l = line_of("before", 0, OUTPUT_STDOUT);

        assert_int_equal(output_file_open(path, 0, 1, false, &f), 0);
        assert_int_equal(output_file_write(f, &l), 0);
        assert_int_equal(output_file_flush(f), 0);
        assert_int_equal(rename(path, moved), 0);
        l = line_of("still old", 0, OUTPUT_STDOUT);
        assert_int_equal(output_file_write(f, &l), 0);
        assert_int_equal(output_file_reopen(f), 0); /* writes what was buffered into the old file */
        l = line_of("after", 0, OUTPUT_STDOUT);
        assert_int_equal(output_file_write(f, &l), 0);
        f = output_file_free(f);
        a = read_all(moved);
        b = read_all(path);
        assert_string_equal(a, "before\nstill old\n");
        assert_string_equal(b, "after\n");
        unlink(path);
        unlink(moved);
}

/* ---- corrald's terminal ---- */

static char *read_pipe(int fd) {
        static char buf[4096];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        assert_true(n >= 0);
        buf[n] = '\0';
        return buf;
}

static void test_terminal(_unused_ void **state) {
        int out[2], err[2];
        OutputTerminal *t = NULL;
        OutputLine l;
        regex_t re;

        assert_int_equal(pipe2(out, O_CLOEXEC | O_NONBLOCK), 0);
        assert_int_equal(pipe2(err, O_CLOEXEC | O_NONBLOCK), 0);
        assert_int_equal(output_terminal_new(out[1], err[1], /* timestamps= */ false, &t), 0);
        output_terminal_add_name(t, "web@1");
        output_terminal_add_name(t, "db");
        l = line_of("GET / 200", 0, OUTPUT_STDOUT);
        assert_int_equal(output_terminal_write(t, "db", &l), 0);
        l = line_of("started", 0, OUTPUT_STDOUT);
        assert_int_equal(output_terminal_write(t, "web@1", &l), 0);
        l = line_of("warning: x", 0, OUTPUT_STDERR);
        assert_int_equal(output_terminal_write(t, "db", &l), 0);
        assert_int_equal(output_terminal_flush(t), 0);
        assert_string_equal(read_pipe(out[0]), "db    | GET / 200\nweb@1 | started\n");
        assert_string_equal(read_pipe(err[0]), "db    | warning: x\n");
        t = output_terminal_free(t);

        assert_int_equal(output_terminal_new(out[1], err[1], /* timestamps= */ true, &t), 0);
        output_terminal_add_name(t, "a");
        l = line_of("x", 1795407358123456ULL, OUTPUT_STDOUT);
        assert_int_equal(output_terminal_write(t, "a", &l), 0);
        t = output_terminal_free(t);
        assert_int_equal(regcomp(&re, "^2026-11-23T04:15:58\\.123Z a \\| x\n$", REG_EXTENDED), 0);
        assert_int_equal(regexec(&re, read_pipe(out[0]), 0, NULL, 0), 0);
        regfree(&re);
        for (int i = 0; i < 2; i++) {
                close(out[i]);
                close(err[i]);
        }
}

/* ---- a unit's pipes in an event loop ---- */

typedef struct PipeEvents {
        unsigned made, closed;
        uint64_t last_inode;
} PipeEvents;

/* What the callbacks heard (one userdata for both). */
typedef struct Seen {
        uint64_t lines, last_seq;
        uint64_t bytes; /* of the lines, their newlines included */
        char last[64];
        PipeEvents pipes;
} Seen;

static void on_line(UnitOutput *o, const OutputLine *l, void *userdata) {
        Seen *s = userdata;

        s->lines++;
        s->bytes += l->len + !(l->flags & OUTPUT_LINE_NO_NEWLINE);
        s->last_seq = l->seq;
        snprintf(s->last, sizeof(s->last), "%s:%.*s", output_stream_to_string(l->stream), (int) l->len, l->text);
}

static void on_pipe(UnitOutput *o, OutputStream s, uint64_t inode, int read_fd, void *userdata);

static const UnitOutputCallbacks lines_only = { .line = on_line },
                                 lines_and_pipes = { .line = on_line, .pipe = on_pipe },
                                 pipes_only = { .pipe = on_pipe };

static void test_unit_output_lines(_unused_ void **state) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_output_freep) UnitOutput *o = NULL;
        int out = -EBADF, err = -EBADF;
        Seen seen = {};
        OutputRingIter it;
        OutputLine l;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(unit_output_new(e, "web@1", OUTPUT_BUFFER_DEFAULT, &o), 0);
        unit_output_set_callbacks(o, &lines_only, &seen);
        assert_int_equal(unit_output_open(o, &out, &err), 0);
        int out2, err2;
        assert_int_equal(unit_output_open(o, &out2, &err2), 0); /* the same pipes for every start */
        assert_int_equal(out2, out);
        assert_int_equal(err2, err);
        assert_false(fcntl(out, F_GETFL) & O_NONBLOCK); /* the child's end blocks */

        assert_int_equal(write(out, "one\ntw", 6), 6);
        assert_int_equal(write(err, "bad\n", 4), 4);
        while (sd_event_run(e, 0) > 0)
                ;
        assert_int_equal(seen.lines, 2);
        assert_int_equal(write(out, "o\n", 2), 2);
        while (sd_event_run(e, 0) > 0)
                ;
        assert_int_equal(seen.lines, 3);
        assert_string_equal(seen.last, "stdout:two");
        assert_int_equal(seen.last_seq, 2);

        assert_int_equal(write(out, "no newline", 10), 10);
        assert_int_equal(unit_output_flush(o), 0);
        assert_string_equal(seen.last, "stdout:no newline");

        output_ring_iter_init(unit_output_ring(o), 2, 0, &it);
        assert_true(output_ring_iter_next(&it, &l));
        assert_int_equal(l.len, 3);
        assert_memory_equal(l.text, "two", 3);
        assert_true(output_ring_iter_next(&it, &l));
        assert_int_equal(l.flags, OUTPUT_LINE_NO_NEWLINE);
        assert_true(l.timestamp > 1700000000ULL * USEC_PER_SEC);
        assert_false(output_ring_iter_next(&it, &l));
        assert_int_equal(unit_output_bytes(o), 6 + 4 + 2 + 10);
        assert_int_equal(seen.bytes, 6 + 4 + 2 + 10);
}

static void on_pipe(UnitOutput *o, OutputStream s, uint64_t inode, int read_fd, void *userdata) {
        PipeEvents *p = &((Seen *) userdata)->pipes;

        if (read_fd >= 0) {
                struct stat st;
                assert_int_equal(fstat(read_fd, &st), 0);
                assert_true((uint64_t) st.st_ino == inode);
                p->made++;
        } else
                p->closed++;
        p->last_inode = inode;
}

/* A pipe an earlier corrald made, given back (systemd's fd store): read
 * like one of its own; at its end (no writer left: corrald holds no write
 * end of it) the stream is closed, and the next start makes a new pipe. */
static void test_unit_output_adopt(_unused_ void **state) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_output_freep) UnitOutput *o = NULL;
        int p[2], q[2], out = -EBADF, err = -EBADF;
        Seen seen = {};
        struct stat st;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(unit_output_new(e, "web@1", OUTPUT_BUFFER_DEFAULT, &o), 0);
        unit_output_set_callbacks(o, &lines_and_pipes, &seen);
        assert_int_equal(pipe2(p, 0), 0); /* as systemd passes it: blocking, no FD_CLOEXEC */
        assert_int_equal(fstat(p[0], &st), 0);
        assert_int_equal(pipe2(q, O_CLOEXEC), 0);
        assert_int_equal(unit_output_adopt(o, OUTPUT_STDOUT, q[0], (uint64_t) st.st_ino), -ESTALE); /* not that pipe */
        assert_int_equal(fcntl(q[0], F_GETFD), -1); /* taken all the same */
        safe_close(q[1]);
        assert_int_equal(unit_output_adopt(o, OUTPUT_STDOUT, p[0], (uint64_t) st.st_ino), 0);
        assert_true(fcntl(p[0], F_GETFL) & O_NONBLOCK);
        assert_true(fcntl(p[0], F_GETFD) & FD_CLOEXEC);
        assert_true(unit_output_pipe_inode(o, OUTPUT_STDOUT) == (uint64_t) st.st_ino);
        assert_int_equal(seen.pipes.made, 0); /* it is in the store already */

        assert_int_equal(write(p[1], "after the crash\npartial", 23), 23);
        while (sd_event_run(e, 0) > 0)
                ;
        assert_int_equal(seen.lines, 1);
        assert_string_equal(seen.last, "stdout:after the crash");
        safe_close(p[1]); /* the last writer is gone */
        while (sd_event_run(e, 0) > 0)
                ;
        assert_int_equal(seen.lines, 2);
        assert_string_equal(seen.last, "stdout:partial");
        assert_int_equal(seen.pipes.closed, 1);
        assert_true(seen.pipes.last_inode == (uint64_t) st.st_ino);
        assert_int_equal(fcntl(p[0], F_GETFD), -1);
        assert_int_equal(unit_output_pipe_inode(o, OUTPUT_STDOUT), 0);

        /* the next start: new pipes, both made */
        assert_int_equal(unit_output_open(o, &out, &err), 0);
        assert_int_equal(seen.pipes.made, 2);
        assert_true(unit_output_pipe_inode(o, OUTPUT_STDOUT) != (uint64_t) st.st_ino);
        assert_int_equal(write(out, "new\n", 4), 4);
        while (sd_event_run(e, 0) > 0)
                ;
        assert_string_equal(seen.last, "stdout:new");

        /* a stream that has a pipe takes no other */
        assert_int_equal(pipe2(q, 0), 0);
        assert_int_equal(fstat(q[0], &st), 0);
        assert_int_equal(unit_output_adopt(o, OUTPUT_STDERR, q[0], (uint64_t) st.st_ino), -EBUSY);
        assert_int_equal(fcntl(q[0], F_GETFD), -1); /* taken all the same */
        o = unit_output_free(o);
        assert_int_equal(seen.pipes.closed, 3); /* freed: both pipes out of the store */

        /* an adopted pipe still open at the next start (a writer outside the
         * unit) is given up for a new one: corrald has no write end of it */
        safe_close(q[1]);
        assert_int_equal(pipe2(q, 0), 0);
        assert_int_equal(fstat(q[0], &st), 0);
        assert_int_equal(unit_output_new(e, "web@1", OUTPUT_BUFFER_DEFAULT, &o), 0);
        unit_output_set_callbacks(o, &pipes_only, &seen);
        assert_int_equal(unit_output_adopt(o, OUTPUT_STDOUT, q[0], (uint64_t) st.st_ino), 0);
        assert_int_equal(unit_output_open(o, &out, &err), 0);
        assert_int_equal(seen.pipes.closed, 4);
        assert_int_equal(seen.pipes.made, 4);
        assert_true(unit_output_pipe_inode(o, OUTPUT_STDOUT) != (uint64_t) st.st_ino);
        assert_true(seen.pipes.last_inode != (uint64_t) st.st_ino); /* made after the old one closed */
        safe_close(q[1]);
}

static int on_defer(sd_event_source *s, void *userdata) {
        (*(int *) userdata)++;
        return 0;
}

/* One wake-up reads at most OUTPUT_READ_BUDGET of a pipe, and only once
 * nothing of a higher priority is pending. */
static void test_unit_output_budget(_unused_ void **state) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_output_freep) UnitOutput *o = NULL;
        _cleanup_(sd_event_source_unrefp) sd_event_source *defer = NULL;
        static char chunk[4 * OUTPUT_READ_BUDGET];
        int out, err, deferred = 0;
        Seen seen = {};

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(unit_output_new(e, "flood", OUTPUT_RING_MIN, &o), 0);
        unit_output_set_callbacks(o, &lines_only, &seen);
        assert_int_equal(unit_output_open(o, &out, &err), 0);
        if (fcntl(out, F_SETPIPE_SZ, (int) sizeof(chunk)) < (int) sizeof(chunk))
                skip(); /* pipe-max-size below 512 KiB */
        for (size_t i = 0; i < sizeof(chunk); i++)
                chunk[i] = i % 80 == 79 ? '\n' : 'x';
        assert_int_equal(write(out, chunk, sizeof(chunk)), (ssize_t) sizeof(chunk));

        assert_int_equal(sd_event_add_defer(e, &defer, on_defer, &deferred), 0);
        assert_int_equal(sd_event_source_set_enabled(defer, SD_EVENT_ONESHOT), 0);
        assert_int_equal(sd_event_run(e, 0), 1);
        assert_int_equal(deferred, 1); /* the normal priority first */
        assert_int_equal(seen.bytes, 0);
        assert_int_equal(sd_event_run(e, 0), 1);
        /* the lines of one budget (of 80 bytes; the rest of the last waits) */
        assert_int_equal(seen.bytes, OUTPUT_READ_BUDGET / 80 * 80);
        while (sd_event_run(e, 0) > 0)
                ;
        assert_int_equal(seen.bytes, sizeof(chunk) / 80 * 80);
        /* the ring kept what fits, and counted the rest */
        const OutputRing *r = unit_output_ring(o);
        assert_int_equal(r->n_lines + r->evicted, sizeof(chunk) / 80);
        assert_true(r->n_lines * (OUTPUT_RING_HEADER + 80) <= OUTPUT_RING_MIN);
}

static void test_unit_output_files(_unused_ void **state) {
        _cleanup_free_ char *out_path = tmp_path("unit.out"), *err_path = tmp_path("unit.err"), *a = NULL, *b = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        UnitOutput *o = NULL;
        OutputFile *fo = NULL, *fe = NULL;
        int out, err;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(unit_output_new(e, "job-1", OUTPUT_BUFFER_DEFAULT, &o), 0);
        assert_int_equal(output_file_open(out_path, 0, 1, false, &fo), 0);
        assert_int_equal(output_file_open(err_path, 0, 1, true, &fe), 0);
        unit_output_set_files(o, fo, fe);
        assert_int_equal(unit_output_open(o, &out, &err), 0);
        assert_int_equal(write(out, "to out\n", 7), 7);
        assert_int_equal(write(err, "to err\n", 7), 7);
        while (sd_event_run(e, 0) > 0)
                ;
        a = read_all(out_path); /* each wake-up writes what it read */
        assert_string_equal(a, "to out\n");
        assert_int_equal(write(out, "last", 4), 4);
        o = unit_output_free(o); /* reads what is left, writes it, closes */
        free(a);
        a = read_all(out_path);
        b = read_all(err_path);
        assert_string_equal(a, "to out\nlast\n");
        assert_non_null(strstr(b, "Z to err\n"));
        assert_int_equal(strlen(b), 27 + 1 + 7);
        unlink(out_path);
        unlink(err_path);
}

/* ---- lines for the protocol ---- */

static void test_line_json(_unused_ void **state) {
        OutputLine l = { .seq = 7, .timestamp = 123, .stream = OUTPUT_STDERR, .text = "a\"\x01\xff", .len = 4 };
        _cleanup_free_ char *text = NULL;
        json_t *o = NULL;

        assert_int_equal(output_line_to_json("web@1", &l, &o), 0);
        text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(text,
                            "{\"seq\":7,\"stream\":\"stderr\",\"text\":\"a\\\"\\u0001\xef\xbf\xbd\","
                            "\"timestamp_usec\":123,\"unit\":\"web@1\"}");
        assert_true(strlen(text) <= output_line_json_size("web@1", &l));
        json_decref(o);
        free(text);
        l.flags = OUTPUT_LINE_SPLIT | OUTPUT_LINE_NO_NEWLINE;
        assert_int_equal(output_line_to_json("x", &l, &o), 0);
        assert_true(json_is_true(json_object_get(o, "split")));
        assert_true(json_is_true(json_object_get(o, "partial")));
        text = json_dumps(o, JSON_COMPACT);
        assert_true(strlen(text) <= output_line_json_size("x", &l));
        json_decref(o);
}

/* Three rings with interleaved times: the merge, the last N across them,
 * since, and the budget (the newest lines are kept). */
static void test_logs_merge(_unused_ void **state) {
        static const struct {
                size_t max;
                usec_t since;
                size_t budget;
                const char *expect; /* the texts, in order */
                size_t omitted;
        } cases[] = {
                { SIZE_MAX, 0, OUTPUT_JSON_BUDGET, "a0 b0 c0 a1 b1 a2 c2", 0 },
                { 3, 0, OUTPUT_JSON_BUDGET, "b1 a2 c2", 0 },
                { 1, 0, OUTPUT_JSON_BUDGET, "c2", 0 },
                { 0, 0, OUTPUT_JSON_BUDGET, "", 0 },
                { SIZE_MAX, 20, OUTPUT_JSON_BUDGET, "a1 b1 a2 c2", 0 },
                { 2, 20, OUTPUT_JSON_BUDGET, "a2 c2", 0 },
                { SIZE_MAX, 0, 300, "a2 c2", 5 }, /* two lines of ~145 bytes fit */
                { 4, 0, 150, "c2", 3 },
                { SIZE_MAX, 0, 10, "", 7 },
        };
        /* ring i, time, text */
        static const struct {
                int ring;
                usec_t t;
                const char *text;
        } lines[] = {
                { 0, 10, "a0" }, { 1, 10, "b0" }, { 2, 10, "c0" }, { 0, 20, "a1" },
                { 1, 25, "b1" }, { 0, 30, "a2" }, { 2, 30, "c2" },
        };
        OutputRing r[3];
        const OutputRing *rings[3] = { &r[0], &r[1], &r[2] };
        const char *names[3] = { "a", "b", "c" };

        for (int i = 0; i < 3; i++)
                assert_int_equal(output_ring_init(&r[i], OUTPUT_RING_MIN), 0);
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                OutputLine l = line_of(lines[i].text, lines[i].t, OUTPUT_STDOUT);
                assert_int_equal(output_ring_append(&r[lines[i].ring], &l, NULL), 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_t *a = NULL, *v;
                size_t omitted = 99, k;
                char got[128] = "";

                assert_int_equal(output_logs_json(rings, names, 3, cases[i].max, cases[i].since, cases[i].budget, &a,
                                                  &omitted),
                                 0);
                json_array_foreach(a, k, v) {
                        if (k > 0)
                                strcat(got, " ");
                        strcat(got, json_string_value(json_object_get(v, "text")));
                        const char *unit = json_string_value(json_object_get(v, "unit"));
                        assert_int_equal(strlen(unit), 1);
                        assert_int_equal(unit[0], json_string_value(json_object_get(v, "text"))[0]);
                }
                print_message("case %zu: \"%s\", %zu omitted\n", i, got, omitted);
                assert_string_equal(got, cases[i].expect);
                assert_int_equal(omitted, cases[i].omitted);
                json_decref(a);
        }
        for (int i = 0; i < 3; i++)
                output_ring_done(&r[i]);
}

/* ---- the logs method's params and follower messages ---- */

static void test_logs_params(_unused_ void **state) {
        static const struct {
                const char *params;
                bool valid;
                uint64_t lines;
                usec_t since;
                bool follow;
                int n_units; /* -1: NULL */
        } cases[] = {
                { NULL, true, 10, 0, false, -1 },
                { "{}", true, 10, 0, false, -1 },
                { "{\"lines\":0}", true, 0, 0, false, -1 },
                { "{\"lines\":5,\"units\":[\"web@1\"]}", true, 5, 0, false, 1 },
                { "{\"units\":[]}", true, 10, 0, false, 0 },
                { "{\"since_usec\":1795407358000000,\"follow\":true}", true, 10, 1795407358000000ULL, true, -1 },
                { "{\"lines\":99999999999}", true, UINT32_MAX, 0, false, -1 },
                { "{\"lines\":-1}", false, 0, 0, false, -1 },
                { "{\"lines\":\"5\"}", false, 0, 0, false, -1 },
                { "{\"since_usec\":-5}", false, 0, 0, false, -1 },
                { "{\"follow\":1}", false, 0, 0, false, -1 },
                { "{\"units\":\"web\"}", false, 0, 0, false, -1 },
                { "{\"units\":[1]}", false, 0, 0, false, -1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *line = NULL;
                ControlRequest req = {};
                const char *error = NULL;

                if (cases[i].params)
                        assert_true(asprintf(&line, "{\"method\":\"logs\",\"params\":%s}", cases[i].params) > 0);
                else
                        line = strdup("{\"method\":\"logs\"}");
                assert_int_equal(control_request_parse(line, strlen(line), &req, &error), 0);
                print_message("%s -> %d %s\n", line, req.params_error, req.params_error_message ?: "");
                assert_int_equal(req.method, CONTROL_METHOD_LOGS);
                assert_int_equal(req.params_error == 0, cases[i].valid);
                if (cases[i].valid) {
                        assert_int_equal(req.lines, cases[i].lines);
                        assert_int_equal(req.since, cases[i].since);
                        assert_int_equal(req.follow, cases[i].follow);
                        if (cases[i].n_units < 0)
                                assert_null(req.units);
                        else
                                assert_int_equal(strv_length(req.units), cases[i].n_units);
                }
                control_request_done(&req);
        }
}

static void test_follow(_unused_ void **state) {
        ControlFollow f = {};
        OutputLine l = { .seq = 3, .timestamp = 5, .stream = OUTPUT_STDOUT, .text = "hi", .len = 2 };
        _cleanup_free_ char *text = NULL, *dropped = NULL;
        size_t n;

        assert_false(control_follow_wants(&f, "web@1"));
        control_follow_start(&f, strv_copy((char *[]) { (char *) "web@1", NULL }));
        assert_true(control_follow_wants(&f, "web@1"));
        assert_false(control_follow_wants(&f, "web@0"));
        control_follow_start(&f, /* units= */ NULL);
        assert_true(control_follow_wants(&f, "anything")); /* every unit, later ones too */
        control_follow_done(&f);
        assert_false(control_follow_wants(&f, "anything"));

        assert_int_equal(control_logs_line_text("web@1", &l, &text, &n), 0);
        assert_string_equal(text,
                            "{\"line\":{\"unit\":\"web@1\",\"stream\":\"stdout\",\"timestamp_usec\":5,"
                            "\"seq\":3,\"text\":\"hi\"}}\n");
        assert_int_equal(n, strlen(text));
        assert_int_equal(control_logs_dropped_text(7, &dropped, &n), 0);
        assert_string_equal(dropped, "{\"dropped\":{\"lines\":7}}\n");
}

/* ---- corralctl logs --since ---- */

static void test_parse_since(_unused_ void **state) {
        /* 2026-11-23T04:15:58.5Z, in UTC for the local forms */
        const uint64_t now_usec = 1795407358500000ULL, day = 1795392000ULL * USEC_PER_SEC;
        static const struct {
                const char *in;
                int ret;
                uint64_t out; /* seconds since the day's midnight, or absolute when ≥ 1e9 */
        } cases[] = {
                { "now", 0, 1795407358500000ULL },
                { "today", 0, 0 },
                { "yesterday", 0, 1795392000ULL - 86400 },
                { "@1795407000", 0, 1795407000ULL },
                { "@1795407000.25", 0, 1795407000ULL },
                { "2026-11-23 04:15:00", 0, 4 * 3600 + 15 * 60 },
                { "2026-11-23T04:15:00", 0, 4 * 3600 + 15 * 60 },
                { "2026-11-23T04:15:00Z", 0, 4 * 3600 + 15 * 60 },
                { "2026-11-23 04:15", 0, 4 * 3600 + 15 * 60 },
                { "2026-11-22", 0, 1795392000ULL - 86400 },
                { "04:15:10", 0, 4 * 3600 + 15 * 60 + 10 },
                { "04:15", 0, 4 * 3600 + 15 * 60 },
                { "-10min", 0, 1795407358500000ULL - 600 * USEC_PER_SEC },
                { "1h ago", 0, 1795407358500000ULL - 3600 * USEC_PER_SEC },
                { "", -EINVAL, 0 },
                { "@", -EINVAL, 0 },
                { "@12x", -EINVAL, 0 },
                { "@-5", -EINVAL, 0 },
                { "soon", -EINVAL, 0 },
                { "2026-13-45", -EINVAL, 0 },
                { "04:15:10 junk", -EINVAL, 0 },
                { "-", -EINVAL, 0 },
                { "ago", -EINVAL, 0 },
        };

        setenv("TZ", "UTC", 1);
        tzset();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t t = 42;
                int r = parse_since(cases[i].in, now_usec, &t);

                print_message("\"%s\" -> %d %llu\n", cases[i].in, r, (unsigned long long) t);
                assert_int_equal(r, cases[i].ret);
                if (r < 0) {
                        assert_int_equal(t, 42);
                        continue;
                }
                if (strchr(cases[i].in, '@'))
                        assert_int_equal(t, cases[i].out * USEC_PER_SEC + (strstr(cases[i].in, ".25") ? 250000 : 0));
                else if (cases[i].out >= 1000000000ULL * USEC_PER_SEC)
                        assert_int_equal(t, cases[i].out);
                else if (cases[i].out >= 1000000000ULL)
                        assert_int_equal(t, cases[i].out * USEC_PER_SEC);
                else
                        assert_int_equal(t, day + cases[i].out * USEC_PER_SEC);
        }
}

static int setup(void **state) {
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
        return rmdir(tmpdir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_splitter),
                cmocka_unit_test(test_splitter_handler_error),
                cmocka_unit_test(test_splitter_nul),
                cmocka_unit_test(test_ring_basic),
                cmocka_unit_test(test_ring_last_and_since),
                cmocka_unit_test(test_ring_eviction_model),
                cmocka_unit_test(test_text_utf8),
                cmocka_unit_test(test_stream_names),
                cmocka_unit_test(test_format_time),
                cmocka_unit_test(test_file_plain),
                cmocka_unit_test(test_file_timestamps),
                cmocka_unit_test(test_file_open_checks),
                cmocka_unit_test(test_file_rotation),
                cmocka_unit_test(test_file_rotation_newest),
                cmocka_unit_test(test_file_reopen),
                cmocka_unit_test(test_terminal),
                cmocka_unit_test(test_unit_output_lines),
                cmocka_unit_test(test_unit_output_adopt),
                cmocka_unit_test(test_unit_output_budget),
                cmocka_unit_test(test_unit_output_files),
                cmocka_unit_test(test_line_json),
                cmocka_unit_test(test_logs_merge),
                cmocka_unit_test(test_logs_params),
                cmocka_unit_test(test_follow),
                cmocka_unit_test(test_parse_since),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
