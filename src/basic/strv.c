/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "strv.h"

#include <stdbool.h>
#include <string.h>

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        if (!l)
                return 0;
        while (l[n])
                n++;
        return n;
}

int strv_consume(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **c;

        c = reallocarray(*l, n + 2, sizeof(char *));
        if (!c)
                return -ENOMEM;
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        char *v;
        int r;

        v = strdup(value);
        if (!v)
                return -ENOMEM;
        r = strv_consume(l, v);
        if (r < 0)
                free(v);
        return r;
}

int strv_pack(char *const *l, char ***ret) {
        size_t n = strv_length(l), size = (n + 1) * sizeof(char *);
        char **c, *p;

        if (!l) {
                *ret = NULL;
                return 0;
        }
        for (size_t i = 0; i < n; i++)
                size += strlen(l[i]) + 1;
        c = malloc(size);
        if (!c)
                return -ENOMEM;
        p = (char *) (c + n + 1);
        for (size_t i = 0; i < n; i++) {
                c[i] = p;
                p = stpcpy(p, l[i]) + 1;
        }
        c[n] = NULL;
        *ret = c;
        return 0;
}

char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        _cleanup_strv_free_ char **c = NULL;

        c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(l[i]);
                if (!c[i])
                        return NULL;
        }
        return TAKE_PTR(c);
}

int strv_env_find(char *const *l, const char *key, size_t keylen) {
        size_t n = strv_length(l);

        for (size_t i = 0; i < n; i++)
                if (strneq(l[i], key, keylen) && l[i][keylen] == '=')
                        return (int) i;
        return -ENOENT;
}

int strv_env_set(char ***l, const char *assignment) {
        const char *eq;
        char *v;
        int i;

        eq = strchr(assignment, '=');
        if (!eq || eq == assignment)
                return -EINVAL;

        v = strdup(assignment);
        if (!v)
                return -ENOMEM;

        i = strv_env_find(*l, assignment, (size_t) (eq - assignment));
        if (i >= 0) {
                free((*l)[i]);
                (*l)[i] = v;
                return 0;
        }

        i = strv_consume(l, v);
        if (i < 0)
                free(v);
        return i;
}

/* The state of strv_split_words(): the word being built lives in a buffer as
 * long as the input, since no word can be longer. */
typedef struct WordSplitter {
        const char *p;
        char *word;
        size_t n;
        bool in_word; /* true once a quote or a character started a word: "" is a word */
        char **words;
} WordSplitter;

static bool char_is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\n';
}

static int word_splitter_push(WordSplitter *w) {
        char *copy;
        int r;

        if (!w->in_word)
                return 0;

        copy = strndup(w->word, w->n);
        if (!copy)
                return -ENOMEM;
        r = strv_consume(&w->words, copy);
        if (r < 0) {
                free(copy);
                return r;
        }
        w->n = 0;
        w->in_word = false;
        return 0;
}

/* A backslash outside quotes: the next character is kept literally, except
 * that backslash-newline is a line continuation and disappears, as in POSIX
 * sh. w->p points at the backslash. */
static int word_splitter_backslash(WordSplitter *w, const char **ret_error) {
        char next = w->p[1];

        if (next == '\0') {
                if (ret_error)
                        *ret_error = "trailing backslash";
                return -EINVAL;
        }
        if (next != '\n') {
                w->word[w->n++] = next;
                w->in_word = true;
        }
        w->p += 2;
        return 0;
}

/* w->p points at the opening quote; on success it points past the closing one. */
static int word_splitter_single_quote(WordSplitter *w, const char **ret_error) {
        const char *end;

        end = strchr(w->p + 1, '\'');
        if (!end) {
                if (ret_error)
                        *ret_error = "unterminated single quote";
                return -EINVAL;
        }
        memcpy(w->word + w->n, w->p + 1, (size_t) (end - w->p - 1));
        w->n += (size_t) (end - w->p - 1);
        w->in_word = true;
        w->p = end + 1;
        return 0;
}

/* Inside double quotes a backslash only escapes \ " $ ` and newline
 * (backslash-newline disappears); before anything else it is kept. */
static int word_splitter_double_quote(WordSplitter *w, const char **ret_error) {
        const char *p = w->p + 1;

        for (; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1] && strchr("\\\"$`\n", p[1])) {
                        p++;
                        if (*p == '\n')
                                continue;
                }
                w->word[w->n++] = *p;
        }
        if (*p != '"') {
                if (ret_error)
                        *ret_error = "unterminated double quote";
                return -EINVAL;
        }
        w->in_word = true;
        w->p = p + 1;
        return 0;
}

static int word_splitter_step(WordSplitter *w, const char **ret_error) {
        switch (*w->p) {
        case '\\':
                return word_splitter_backslash(w, ret_error);
        case '\'':
                return word_splitter_single_quote(w, ret_error);
        case '"':
                return word_splitter_double_quote(w, ret_error);
        default:
                if (char_is_blank(*w->p)) {
                        w->p++;
                        return word_splitter_push(w);
                }
                w->word[w->n++] = *w->p++;
                w->in_word = true;
                return 0;
        }
}

int strv_split_words(const char *s, char ***ret, const char **ret_error) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_strv_free_ char **words = NULL;
        WordSplitter w = { .p = s };
        int r = 0;

        buf = malloc(strlen(s) + 1);
        words = calloc(1, sizeof(char *));
        if (!buf || !words)
                return -ENOMEM;
        w.word = buf;
        w.words = TAKE_PTR(words);

        while (*w.p && r >= 0)
                r = word_splitter_step(&w, ret_error);
        if (r >= 0)
                r = word_splitter_push(&w);

        words = TAKE_PTR(w.words); /* freed by the cleanup on failure */
        if (r < 0)
                return r;
        *ret = TAKE_PTR(words);
        return 0;
}

int strv_env_expand(const char *s, char *const *vars, char **ret, const char **ret_bad) {
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        for (const char *p = s; *p; p++) {
                if (p[0] == '$' && p[1] == '$') {
                        fputc('$', f);
                        p++;
                        continue;
                }
                if (p[0] != '$' || p[1] != '{') {
                        fputc(*p, f);
                        continue;
                }
                const char *end = strchr(p + 2, '}');
                int i = end ? strv_env_find(vars, p + 2, (size_t) (end - p - 2)) : -ENOENT;
                if (i < 0) {
                        fclose(f);
                        if (ret_bad)
                                *ret_bad = p;
                        return -EINVAL;
                }
                fputs(strchr(vars[i], '=') + 1, f);
                p = end;
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}
