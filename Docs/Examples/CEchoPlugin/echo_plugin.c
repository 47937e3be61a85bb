/*
 * echo_plugin.c — a Switchboard agent plugin written in plain C11 with POSIX threads.
 *
 * It exists to show that the plugin ABI (Sources/CSwitchboardABI/include/switchboard_abi.h)
 * is language-neutral: no Swift, no SDK, just the one header and the C library. The
 * "agent" echoes every message back with a configurable prefix, optionally after a delay
 * that can be interrupted.
 *
 * Build (from the repository root):
 *
 *   cc -std=c11 -shared -fPIC -fvisibility=hidden -pthread \
 *      -ISources/CSwitchboardABI/include -o libEchoC.so Docs/Examples/CEchoPlugin/echo_plugin.c
 *
 * Settings (the agent's "settings" object in the host config):
 *   "prefix"   string, optional, default "echo: " — put in front of every reply
 *   "delayMs"  integer, optional, default 0       — how long a turn "thinks" (0...3600000)
 *
 * How it keeps the ABI's promises:
 *   - Every call returns promptly. A turn runs on its own worker thread; interrupt and
 *     dispose only wake the worker (a condition variable) and join it, which is immediate.
 *   - Every request gets exactly one {"event":"completed"|"failed","request":N}.
 *   - Every callback runs with the adapter's mutex held, so callbacks for one adapter never
 *     overlap and arrive in the order the events happened. (The header promises the callback
 *     never calls back into the plugin, so holding the mutex during it cannot deadlock.)
 *   - destroy marks the adapter closed under the mutex — no callback can start after that —
 *     then stops and joins the worker before freeing anything.
 */
#define _POSIX_C_SOURCE 200809L

#include "switchboard_abi.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ECHO_EXPORT __attribute__((visibility("default")))

#if defined(__clang__)
#define ECHO_TOOLCHAIN "clang " __clang_version__
#elif defined(__GNUC__)
#define ECHO_TOOLCHAIN "gcc " __VERSION__
#else
#define ECHO_TOOLCHAIN "C11 compiler"
#endif

#define ECHO_DEFAULT_PREFIX "echo: "
#define ECHO_MAX_DELAY_MS 3600000L
#define ECHO_MAX_JSON_DEPTH 128

/* ====================================================================================== */
/* A growable byte buffer that starts in caller-provided (stack) storage.                  */
/* ====================================================================================== */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool heap; /* data was malloc'd (and must be freed) */
    bool oom;  /* an append failed; the contents are incomplete */
} sbuf;

static void sbuf_init(sbuf *b, char *storage, size_t capacity) {
    b->data = storage;
    b->len = 0;
    b->cap = capacity;
    b->heap = false;
    b->oom = false;
}

static void sbuf_release(sbuf *b) {
    if (b->heap) free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->heap = false;
}

static bool sbuf_reserve(sbuf *b, size_t extra) {
    if (b->oom) return false;
    if (extra <= b->cap - b->len) return true;
    size_t want = b->cap ? b->cap : 64;
    while (want - b->len < extra) {
        if (want > SIZE_MAX / 2) { b->oom = true; return false; }
        want *= 2;
    }
    char *grown;
    if (b->heap) {
        grown = realloc(b->data, want);
    } else {
        grown = malloc(want);
        if (grown && b->len) memcpy(grown, b->data, b->len);
    }
    if (!grown) { b->oom = true; return false; }
    b->data = grown;
    b->cap = want;
    b->heap = true;
    return true;
}

static void sbuf_put(sbuf *b, const void *bytes, size_t n) {
    if (n == 0 || !sbuf_reserve(b, n)) return;
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

static void sbuf_puts(sbuf *b, const char *s) { sbuf_put(b, s, strlen(s)); }

static void sbuf_putc(sbuf *b, char c) { sbuf_put(b, &c, 1); }

static void sbuf_put_u64(sbuf *b, uint64_t v) {
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    if (n > 0) sbuf_put(b, digits, (size_t)n);
}

/* Appends a UTF-8 code point (the caller passes only valid scalar values). */
static void sbuf_put_utf8(sbuf *b, uint32_t cp) {
    char out[4];
    size_t n;
    if (cp < 0x80) {
        out[0] = (char)cp; n = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        out[0] = (char)(0xF0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    sbuf_put(b, out, n);
}

/* Length of the valid UTF-8 sequence at s (1...4), or 0 when it is not valid UTF-8
 * (truncated, overlong, a surrogate, or beyond U+10FFFF). */
static size_t utf8_sequence_length(const unsigned char *s, size_t avail) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1Fu; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0Fu; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07u; min = 0x10000; }
    else return 0;
    if (avail < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* Appends `s` as a quoted JSON string: '"' and '\' escaped, every control character as
 * \u00XX, and any byte that is not part of valid UTF-8 replaced with \ufffd, so the result
 * is always valid JSON whatever the input. */
static void sbuf_put_json_string(sbuf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    sbuf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            sbuf_put(b, esc, 2);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF] };
            sbuf_put(b, esc, 6);
            i++;
        } else if (c < 0x80) {
            /* A run of plain ASCII goes in one append. */
            size_t start = i;
            while (i < n && p[i] >= 0x20 && p[i] < 0x7F && p[i] != '"' && p[i] != '\\') i++;
            sbuf_put(b, p + start, i - start);
        } else {
            size_t len = utf8_sequence_length(p + i, n - i);
            if (len == 0) {
                sbuf_puts(b, "\\ufffd");
                i++;
            } else {
                sbuf_put(b, p + i, len);
                i += len;
            }
        }
    }
    sbuf_putc(b, '"');
}

/* A malloc'd, NUL-terminated copy of n bytes (which may themselves contain NULs). */
static char *copy_bytes(const char *s, size_t n) {
    char *out = malloc(n + 1);
    if (!out) return NULL;
    if (n) memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* ====================================================================================== */
/* A small JSON reader: enough to walk one object's members and skip any value.            */
/* ====================================================================================== */

typedef struct {
    const unsigned char *start;
    const unsigned char *p;
    const unsigned char *end;
    const char *why; /* the first syntax error, if any */
} jreader;

static bool j_fail(jreader *r, const char *why) {
    if (!r->why) r->why = why;
    return false;
}

static void j_ws(jreader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int j_peek(jreader *r) { return r->p < r->end ? *r->p : -1; }

static bool j_hex4(jreader *r, uint32_t *out) {
    if (r->end - r->p < 4) return j_fail(r, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = *r->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return j_fail(r, "bad \\u escape");
    }
    *out = v;
    return true;
}

/* Reads a string at r->p (which is '"'), decoding it into `out` when out is not NULL. */
static bool j_string(jreader *r, sbuf *out) {
    r->p++; /* the opening quote */
    for (;;) {
        if (r->p >= r->end) return j_fail(r, "unterminated string");
        unsigned char c = *r->p++;
        if (c == '"') return true;
        if (c < 0x20) return j_fail(r, "control character in string");
        if (c != '\\') {
            if (out) sbuf_putc(out, (char)c);
            continue;
        }
        if (r->p >= r->end) return j_fail(r, "unterminated string");
        c = *r->p++;
        char plain;
        switch (c) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (!j_hex4(r, &cp)) return false;
            if (cp >= 0xD800 && cp <= 0xDBFF && r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u') {
                const unsigned char *save = r->p;
                uint32_t low;
                r->p += 2;
                if (!j_hex4(r, &low)) return false;
                if (low >= 0xDC00 && low <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                } else {
                    r->p = save; /* not a pair: the high half stands alone */
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; /* a lone surrogate */
            if (out) sbuf_put_utf8(out, cp);
            continue;
        }
        default: return j_fail(r, "bad escape in string");
        }
        if (out) sbuf_putc(out, plain);
    }
}

static bool j_digits(jreader *r) {
    if (r->p >= r->end || *r->p < '0' || *r->p > '9') return j_fail(r, "bad number");
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    return true;
}

static bool j_number(jreader *r) {
    if (j_peek(r) == '-') r->p++;
    if (j_peek(r) == '0') r->p++;
    else if (!j_digits(r)) return false;
    if (j_peek(r) == '.') { r->p++; if (!j_digits(r)) return false; }
    if (j_peek(r) == 'e' || j_peek(r) == 'E') {
        r->p++;
        if (j_peek(r) == '+' || j_peek(r) == '-') r->p++;
        if (!j_digits(r)) return false;
    }
    return true;
}

static bool j_literal(jreader *r, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return j_fail(r, "unexpected character");
    r->p += n;
    return true;
}

/* Skips one value of any kind. */
static bool j_skip_value(jreader *r, int depth) {
    if (depth > ECHO_MAX_JSON_DEPTH) return j_fail(r, "nesting too deep");
    j_ws(r);
    switch (j_peek(r)) {
    case '"': return j_string(r, NULL);
    case 't': return j_literal(r, "true");
    case 'f': return j_literal(r, "false");
    case 'n': return j_literal(r, "null");
    case '{': case '[': {
        char close = *r->p == '{' ? '}' : ']';
        bool object = close == '}';
        r->p++;
        j_ws(r);
        if (j_peek(r) == close) { r->p++; return true; }
        for (;;) {
            if (object) {
                j_ws(r);
                if (j_peek(r) != '"') return j_fail(r, "expected a member name");
                if (!j_string(r, NULL)) return false;
                j_ws(r);
                if (j_peek(r) != ':') return j_fail(r, "expected ':'");
                r->p++;
            }
            if (!j_skip_value(r, depth + 1)) return false;
            j_ws(r);
            int c = j_peek(r);
            if (c == ',') { r->p++; continue; }
            if (c == close) { r->p++; return true; }
            return j_fail(r, object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    case -1: return j_fail(r, "unexpected end of text");
    default:
        if (j_peek(r) == '-' || (j_peek(r) >= '0' && j_peek(r) <= '9')) return j_number(r);
        return j_fail(r, "unexpected character");
    }
}

/* Called once per member of the top-level object, with r->p at the member's value (after
 * whitespace). It must consume the value. It returns false to stop: either after setting
 * its own error in its context, or on a syntax error recorded in r. */
typedef bool (*j_member_fn)(void *ctx, const char *key, size_t key_len, jreader *r);

typedef enum { J_OK, J_NOT_OBJECT, J_SYNTAX, J_MEMBER } j_result;

/* Walks a whole text that must be exactly one JSON object. */
static j_result j_walk_object(const char *text, size_t length, j_member_fn fn, void *ctx, jreader *r) {
    if (!text) { text = ""; length = 0; }
    r->start = r->p = (const unsigned char *)text;
    r->end = r->p + length;
    r->why = NULL;
    j_ws(r);
    if (j_peek(r) != '{') return J_NOT_OBJECT;
    r->p++;
    j_ws(r);
    if (j_peek(r) == '}') {
        r->p++;
    } else {
        for (;;) {
            j_ws(r);
            if (j_peek(r) != '"') { j_fail(r, "expected a member name"); return J_SYNTAX; }
            char key_storage[64];
            sbuf key;
            sbuf_init(&key, key_storage, sizeof key_storage);
            if (!j_string(r, &key)) { sbuf_release(&key); return J_SYNTAX; }
            j_ws(r);
            if (j_peek(r) != ':') { sbuf_release(&key); j_fail(r, "expected ':'"); return J_SYNTAX; }
            r->p++;
            j_ws(r);
            /* A key we could not hold (out of memory) is passed on empty: it is then ignored. */
            bool ok = fn(ctx, key.oom ? "" : key.data, key.oom ? 0 : key.len, r);
            sbuf_release(&key);
            if (!ok) return r->why ? J_SYNTAX : J_MEMBER;
            j_ws(r);
            int c = j_peek(r);
            if (c == ',') { r->p++; continue; }
            if (c == '}') { r->p++; break; }
            j_fail(r, "expected ',' or '}'");
            return J_SYNTAX;
        }
    }
    j_ws(r);
    if (r->p != r->end) { j_fail(r, "unexpected text after the object"); return J_SYNTAX; }
    return J_OK;
}

static bool key_is(const char *key, size_t len, const char *name) {
    return strlen(name) == len && memcmp(key, name, len) == 0;
}

/* Reads an optional string member: a string (stored, malloc'd, in *out) or null (left as is).
 * Anything else sets *error to must_be_string. */
static bool read_optional_string(jreader *r, char **out, size_t *out_len, const char **error,
                                 const char *must_be_string) {
    if (j_peek(r) == 'n') return j_literal(r, "null");
    if (j_peek(r) != '"') { *error = must_be_string; return false; }
    char storage[128];
    sbuf value;
    sbuf_init(&value, storage, sizeof storage);
    if (!j_string(r, &value)) { sbuf_release(&value); return false; }
    size_t len = value.len;
    char *copy = value.oom ? NULL : copy_bytes(value.data, len);
    sbuf_release(&value);
    if (!copy) { *error = "out of memory"; return false; }
    free(*out);
    *out = copy;
    if (out_len) *out_len = len;
    return true;
}

/* ====================================================================================== */
/* Settings                                                                                */
/* ====================================================================================== */

typedef struct {
    char *prefix; /* NULL: the default */
    size_t prefix_len;
    long delay_ms;
    const char *error;
} echo_settings;

static bool settings_member(void *ctx, const char *key, size_t key_len, jreader *r) {
    echo_settings *s = ctx;
    if (key_is(key, key_len, "prefix")) {
        return read_optional_string(r, &s->prefix, &s->prefix_len, &s->error, "settings.prefix: must be a string");
    }
    if (key_is(key, key_len, "delayMs")) {
        static const char *not_integer = "settings.delayMs: must be a non-negative integer (milliseconds)";
        if (j_peek(r) == 'n') return j_literal(r, "null");
        int c = j_peek(r);
        if (c != '-' && !(c >= '0' && c <= '9')) { s->error = not_integer; return false; }
        const unsigned char *begin = r->p;
        if (!j_number(r)) return false;
        long value = 0;
        for (const unsigned char *d = begin; d < r->p; d++) {
            if (*d < '0' || *d > '9') { s->error = not_integer; return false; }
            if (value <= ECHO_MAX_DELAY_MS) value = value * 10 + (*d - '0');
        }
        if (value > ECHO_MAX_DELAY_MS) { s->error = "settings.delayMs: must be at most 3600000"; return false; }
        s->delay_ms = value;
        return true;
    }
    return j_skip_value(r, 1); /* unknown settings are ignored */
}

/* A malloc'd message for create's out_error. */
static char *describe_json_problem(const char *what, j_result result, const jreader *r, const char *member_error) {
    char text[256];
    switch (result) {
    case J_NOT_OBJECT: snprintf(text, sizeof text, "%s: must be a JSON object", what); break;
    case J_SYNTAX:
        snprintf(text, sizeof text, "%s: invalid JSON at byte %zu: %s", what, (size_t)(r->p - r->start),
                 r->why ? r->why : "syntax error");
        break;
    case J_MEMBER: snprintf(text, sizeof text, "%s", member_error ? member_error : "invalid value"); break;
    case J_OK: default: snprintf(text, sizeof text, "%s: no problem", what); break;
    }
    return copy_bytes(text, strlen(text));
}

/* ====================================================================================== */
/* The adapter                                                                             */
/* ====================================================================================== */

struct switchboard_adapter {
    /* Guards every field below that a worker can see, and is held during every callback. */
    pthread_mutex_t lock;
    /* Signalled when a running turn should stop (interrupt, dispose, destroy). */
    pthread_cond_t wake;

    switchboard_event_callback on_event;
    void *host_context;

    /* From the settings; fixed after create. */
    char *prefix;
    size_t prefix_len;
    long delay_ms;

    char *model; /* NULL until a model is set */
    size_t model_len;
    char *session_id;

    bool started;
    bool disposed;     /* dispose (or destroy) has begun: requests fail from now on */
    bool closed;       /* destroy has begun: no callback may start */
    bool turn_running; /* a worker is inside a turn */
    bool stop_turn;    /* interrupt asked the running turn to stop */
    unsigned long turns;

    /* The worker thread. Touched only by host calls, which never run concurrently for one
     * adapter, so it needs no lock. */
    pthread_t worker;
    bool has_worker;
};

/* What one turn's worker owns. */
typedef struct {
    switchboard_adapter *adapter;
    uint64_t request;
    char *content; /* prefix + the user's text */
    size_t content_len;
    char *model; /* the model in effect when the turn started, or NULL */
    size_t model_len;
    char message_id[96];
} echo_turn;

static atomic_ullong adapter_serial = 0;

/* ---- Emitting events (always with a->lock held) ---------------------------------------- */

static void emit_locked(switchboard_adapter *a, const sbuf *b) {
    if (a->closed) return;
    if (b->oom) {
        static const char oom[] = "{\"event\":\"error\",\"error\":\"echo-c: out of memory\"}";
        a->on_event(a->host_context, oom, sizeof oom - 1);
        return;
    }
    a->on_event(a->host_context, b->data, b->len);
}

static void put_request(sbuf *b, uint64_t request) {
    if (request == 0) return;
    sbuf_puts(b, ",\"request\":");
    sbuf_put_u64(b, request);
}

/* {"event":"completed","request":N} when error is NULL, else {"event":"failed",...}. */
static void emit_outcome_locked(switchboard_adapter *a, uint64_t request, const char *error) {
    char storage[512];
    sbuf b;
    sbuf_init(&b, storage, sizeof storage);
    sbuf_puts(&b, error ? "{\"event\":\"failed\"" : "{\"event\":\"completed\"");
    put_request(&b, request);
    if (error) {
        sbuf_puts(&b, ",\"error\":");
        sbuf_put_json_string(&b, error, strlen(error));
    }
    sbuf_putc(&b, '}');
    if (b.oom && !a->closed) {
        /* An outcome must never be lost: the host is waiting for it. */
        char fallback[128];
        int n = snprintf(fallback, sizeof fallback,
                         "{\"event\":\"failed\",\"request\":%llu,\"error\":\"echo-c: out of memory\"}",
                         (unsigned long long)request);
        if (n > 0 && (size_t)n < sizeof fallback) a->on_event(a->host_context, fallback, (size_t)n);
    } else {
        emit_locked(a, &b);
    }
    sbuf_release(&b);
}

static void emit_status_locked(switchboard_adapter *a, const char *status, uint64_t request) {
    char storage[256];
    sbuf b;
    sbuf_init(&b, storage, sizeof storage);
    sbuf_puts(&b, "{\"event\":\"status\"");
    put_request(&b, request);
    sbuf_puts(&b, ",\"status\":\"");
    sbuf_puts(&b, status); /* one of our own constants */
    sbuf_putc(&b, '"');
    if (a->session_id) {
        sbuf_puts(&b, ",\"agentSessionId\":");
        sbuf_put_json_string(&b, a->session_id, strlen(a->session_id));
    }
    sbuf_putc(&b, '}');
    emit_locked(a, &b);
    sbuf_release(&b);
}

/* ISO-8601 in UTC with milliseconds: 2026-11-25T09:33:26.123Z */
static void timestamp_now(char *out, size_t size) {
    struct timespec ts;
    struct tm parts;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t seconds = ts.tv_sec;
    gmtime_r(&seconds, &parts);
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", parts.tm_year + 1900, parts.tm_mon + 1,
             parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, (long)(ts.tv_nsec / 1000000));
}

/* {"event":"message","request":N,"message":{"type":...,"content":...,"timestamp":...,
 *  "messageId":...[,"model":...]}} */
static void emit_message_locked(switchboard_adapter *a, uint64_t request, const char *type, const char *content,
                                size_t content_len, const char *message_id, const char *model, size_t model_len) {
    char stamp[64];
    char storage[1024];
    sbuf b;
    timestamp_now(stamp, sizeof stamp);
    sbuf_init(&b, storage, sizeof storage);
    sbuf_puts(&b, "{\"event\":\"message\"");
    put_request(&b, request);
    sbuf_puts(&b, ",\"message\":{\"type\":\"");
    sbuf_puts(&b, type); /* one of our own constants */
    sbuf_puts(&b, "\",\"content\":");
    sbuf_put_json_string(&b, content, content_len);
    sbuf_puts(&b, ",\"timestamp\":");
    sbuf_put_json_string(&b, stamp, strlen(stamp));
    sbuf_puts(&b, ",\"messageId\":");
    sbuf_put_json_string(&b, message_id, strlen(message_id));
    if (model) {
        sbuf_puts(&b, ",\"model\":");
        sbuf_put_json_string(&b, model, model_len);
    }
    sbuf_puts(&b, "}}");
    emit_locked(a, &b);
    sbuf_release(&b);
}

/* ---- The turn worker -------------------------------------------------------------------- */

static bool turn_should_stop(const switchboard_adapter *a) { return a->stop_turn || a->disposed; }

static void *turn_main(void *arg) {
    echo_turn *t = arg;
    switchboard_adapter *a = t->adapter;

    pthread_mutex_lock(&a->lock);
    emit_status_locked(a, "running", t->request);
    emit_outcome_locked(a, t->request, NULL); /* the turn is under way: send_message is done */

    if (a->delay_ms > 0 && !turn_should_stop(a)) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += a->delay_ms / 1000;
        deadline.tv_nsec += (a->delay_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec += 1;
            deadline.tv_nsec -= 1000000000L;
        }
        while (!turn_should_stop(a)) {
            if (pthread_cond_timedwait(&a->wake, &a->lock, &deadline) == ETIMEDOUT) break;
        }
    }

    if (turn_should_stop(a)) {
        /* Interrupted (or disposed): no reply. The caller completes its own request after
         * joining this thread, so "interrupted" comes first. */
        emit_status_locked(a, "interrupted", t->request);
    } else {
        emit_message_locked(a, t->request, "assistant", t->content, t->content_len, t->message_id, NULL, 0);
        static const char done[] = "Response complete";
        emit_message_locked(a, t->request, "done", done, sizeof done - 1, t->message_id, t->model, t->model_len);
        emit_status_locked(a, "idle", t->request);
    }
    a->turn_running = false;
    a->stop_turn = false;
    pthread_mutex_unlock(&a->lock);

    free(t->content);
    free(t->model);
    free(t);
    return NULL;
}

/* Joins the worker, if there is one. Called without the lock, from host calls only. */
static void join_worker(switchboard_adapter *a) {
    if (!a->has_worker) return;
    pthread_join(a->worker, NULL);
    a->has_worker = false;
}

/* Asks a running turn to stop and waits for its thread to end. Called without the lock. */
static void stop_worker(switchboard_adapter *a, bool interrupt) {
    pthread_mutex_lock(&a->lock);
    if (interrupt && a->turn_running) a->stop_turn = true;
    pthread_cond_broadcast(&a->wake);
    pthread_mutex_unlock(&a->lock);
    join_worker(a);
}

/* ---- The ABI functions ------------------------------------------------------------------ */

static const char *const disposed_error = "the adapter has been disposed";

static void adapter_free(switchboard_adapter *a) {
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->lock);
    free(a->prefix);
    free(a->model);
    free(a->session_id);
    free(a);
}

static int32_t echo_create(const char *settings_json, size_t settings_length, switchboard_event_callback on_event,
                           void *host_context, switchboard_adapter **out_adapter, char **out_error) {
    if (out_error) *out_error = NULL;
    if (!out_adapter) {
        if (out_error) *out_error = copy_bytes("out_adapter must not be NULL", 28);
        return SWITCHBOARD_ERR_INVALID_ARGUMENT;
    }
    *out_adapter = NULL;
    if (!on_event) {
        if (out_error) *out_error = copy_bytes("on_event must not be NULL", 25);
        return SWITCHBOARD_ERR_INVALID_ARGUMENT;
    }

    echo_settings settings = { NULL, 0, 0, NULL };
    jreader reader;
    j_result parsed = j_walk_object(settings_json, settings_length, settings_member, &settings, &reader);
    if (parsed != J_OK) {
        if (out_error) *out_error = describe_json_problem("settings", parsed, &reader, settings.error);
        free(settings.prefix);
        return SWITCHBOARD_ERR_INVALID_ARGUMENT;
    }
    if (!settings.prefix) {
        settings.prefix = copy_bytes(ECHO_DEFAULT_PREFIX, strlen(ECHO_DEFAULT_PREFIX));
        settings.prefix_len = strlen(ECHO_DEFAULT_PREFIX);
    }

    switchboard_adapter *a = calloc(1, sizeof *a);
    char session[96];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(session, sizeof session, "echo-%ld-%lld%03ld-%llu", (long)getpid(), (long long)now.tv_sec,
             (long)(now.tv_nsec / 1000000), (unsigned long long)atomic_fetch_add(&adapter_serial, 1) + 1);
    char *session_id = copy_bytes(session, strlen(session));
    if (!a || !settings.prefix || !session_id) {
        free(a);
        free(settings.prefix);
        free(session_id);
        if (out_error) *out_error = copy_bytes("out of memory", 13);
        return SWITCHBOARD_ERR_INVALID_ARGUMENT;
    }

    pthread_condattr_t attributes;
    bool cond_ok = pthread_condattr_init(&attributes) == 0;
    if (cond_ok) {
        /* Delays are measured on the monotonic clock, immune to wall-clock changes. */
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
        cond_ok = pthread_cond_init(&a->wake, &attributes) == 0;
        pthread_condattr_destroy(&attributes);
    }
    if (!cond_ok || pthread_mutex_init(&a->lock, NULL) != 0) {
        if (cond_ok) pthread_cond_destroy(&a->wake);
        free(a);
        free(settings.prefix);
        free(session_id);
        if (out_error) *out_error = copy_bytes("could not create a mutex or condition variable", 46);
        return SWITCHBOARD_ERR_INVALID_ARGUMENT;
    }

    a->on_event = on_event;
    a->host_context = host_context;
    a->prefix = settings.prefix;
    a->prefix_len = settings.prefix_len;
    a->delay_ms = settings.delay_ms;
    a->session_id = session_id;
    *out_adapter = a;
    return SWITCHBOARD_OK;
}

/* Start options: we use "model" and "agentSessionId" (a session to resume); the rest
 * (workspaceName, containerName, projectPath, ...) mean nothing to an echo. */
typedef struct {
    char *model;
    size_t model_len;
    char *session_id;
    const char *error;
} echo_start_options;

static bool start_option_member(void *ctx, const char *key, size_t key_len, jreader *r) {
    echo_start_options *o = ctx;
    if (key_is(key, key_len, "model")) {
        return read_optional_string(r, &o->model, &o->model_len, &o->error, "start options.model: must be a string");
    }
    if (key_is(key, key_len, "agentSessionId")) {
        return read_optional_string(r, &o->session_id, NULL, &o->error,
                                    "start options.agentSessionId: must be a string");
    }
    return j_skip_value(r, 1);
}

static int32_t echo_start(switchboard_adapter *a, uint64_t request_id, const char *options_json,
                          size_t options_length) {
    if (!a) return SWITCHBOARD_ERR_INVALID_HANDLE;
    if (request_id == 0) return SWITCHBOARD_ERR_INVALID_ARGUMENT;

    echo_start_options options = { NULL, 0, NULL, NULL };
    jreader reader;
    j_result parsed = j_walk_object(options_json, options_length, start_option_member, &options, &reader);

    pthread_mutex_lock(&a->lock);
    if (a->disposed) {
        emit_outcome_locked(a, request_id, disposed_error);
    } else if (parsed != J_OK) {
        char *why = describe_json_problem("start options", parsed, &reader, options.error);
        emit_outcome_locked(a, request_id, why ? why : "start options: invalid");
        free(why);
    } else if (a->started) {
        emit_outcome_locked(a, request_id, "the adapter has already been started");
    } else {
        if (options.model) {
            free(a->model);
            a->model = options.model;
            a->model_len = options.model_len;
            options.model = NULL;
        }
        if (options.session_id && options.session_id[0]) {
            free(a->session_id);
            a->session_id = options.session_id; /* resume: keep the host's id */
            options.session_id = NULL;
        }
        a->started = true;
        if (!a->turn_running) emit_status_locked(a, "idle", request_id);
        emit_outcome_locked(a, request_id, NULL);
    }
    pthread_mutex_unlock(&a->lock);
    free(options.model);
    free(options.session_id);
    return SWITCHBOARD_OK;
}

static int32_t echo_send_message(switchboard_adapter *a, uint64_t request_id, const char *text, size_t text_length) {
    if (!a) return SWITCHBOARD_ERR_INVALID_HANDLE;
    if (request_id == 0 || (!text && text_length)) return SWITCHBOARD_ERR_INVALID_ARGUMENT;

    pthread_mutex_lock(&a->lock);
    const char *refusal = a->disposed ? disposed_error : a->turn_running ? "A turn is already running." : NULL;
    if (refusal) {
        emit_outcome_locked(a, request_id, refusal);
        pthread_mutex_unlock(&a->lock);
        return SWITCHBOARD_OK;
    }
    pthread_mutex_unlock(&a->lock);

    /* No turn runs, so the previous worker (if any) has finished or is just returning. */
    join_worker(a);

    pthread_mutex_lock(&a->lock);
    echo_turn *t = calloc(1, sizeof *t);
    size_t content_len = a->prefix_len + text_length;
    char *content = t && content_len >= text_length ? malloc(content_len + 1) : NULL;
    char *model = a->model ? copy_bytes(a->model, a->model_len) : NULL;
    if (!t || !content || (a->model && !model)) {
        free(t);
        free(content);
        free(model);
        emit_outcome_locked(a, request_id, "out of memory");
        pthread_mutex_unlock(&a->lock);
        return SWITCHBOARD_OK;
    }
    memcpy(content, a->prefix, a->prefix_len);
    if (text_length) memcpy(content + a->prefix_len, text, text_length);
    content[content_len] = '\0';
    a->turns++;
    t->adapter = a;
    t->request = request_id;
    t->content = content;
    t->content_len = content_len;
    t->model = model;
    t->model_len = a->model_len;
    snprintf(t->message_id, sizeof t->message_id, "%.64s-%lu", a->session_id, a->turns);

    a->turn_running = true;
    a->stop_turn = false;
    /* The worker blocks on the lock we hold, so its events follow anything we emit here. */
    int rc = pthread_create(&a->worker, NULL, turn_main, t);
    if (rc != 0) {
        a->turn_running = false;
        free(t->content);
        free(t->model);
        free(t);
        char why[128];
        snprintf(why, sizeof why, "could not start a turn thread: %s", strerror(rc));
        emit_outcome_locked(a, request_id, why);
    } else {
        a->has_worker = true;
    }
    pthread_mutex_unlock(&a->lock);
    return SWITCHBOARD_OK;
}

static int32_t echo_set_model(switchboard_adapter *a, uint64_t request_id, const char *model, size_t model_length) {
    if (!a) return SWITCHBOARD_ERR_INVALID_HANDLE;
    if (request_id == 0 || (!model && model_length)) return SWITCHBOARD_ERR_INVALID_ARGUMENT;

    pthread_mutex_lock(&a->lock);
    if (a->disposed) {
        emit_outcome_locked(a, request_id, disposed_error);
    } else if (model_length == 0) {
        /* An empty name clears the model: replies then carry none. */
        free(a->model);
        a->model = NULL;
        a->model_len = 0;
        emit_outcome_locked(a, request_id, NULL);
    } else {
        char *copy = copy_bytes(model, model_length);
        if (!copy) {
            emit_outcome_locked(a, request_id, "out of memory");
        } else {
            /* A running turn keeps its own copy: the new model applies from the next turn. */
            free(a->model);
            a->model = copy;
            a->model_len = model_length;
            emit_outcome_locked(a, request_id, NULL);
        }
    }
    pthread_mutex_unlock(&a->lock);
    return SWITCHBOARD_OK;
}

static int32_t echo_interrupt(switchboard_adapter *a, uint64_t request_id) {
    if (!a) return SWITCHBOARD_ERR_INVALID_HANDLE;
    if (request_id == 0) return SWITCHBOARD_ERR_INVALID_ARGUMENT;

    pthread_mutex_lock(&a->lock);
    if (a->disposed || !a->turn_running) {
        /* Nothing runs: interrupting is a no-op that succeeds. */
        emit_outcome_locked(a, request_id, a->disposed ? disposed_error : NULL);
        pthread_mutex_unlock(&a->lock);
        return SWITCHBOARD_OK;
    }
    pthread_mutex_unlock(&a->lock);

    /* Wake the worker and wait for it: it emits "interrupted" and ends at once. */
    stop_worker(a, true);

    pthread_mutex_lock(&a->lock);
    emit_outcome_locked(a, request_id, NULL);
    pthread_mutex_unlock(&a->lock);
    return SWITCHBOARD_OK;
}

static int32_t echo_dispose(switchboard_adapter *a, uint64_t request_id) {
    if (!a) return SWITCHBOARD_ERR_INVALID_HANDLE;
    if (request_id == 0) return SWITCHBOARD_ERR_INVALID_ARGUMENT;

    pthread_mutex_lock(&a->lock);
    a->disposed = true; /* disposing twice is harmless: it just completes again */
    pthread_mutex_unlock(&a->lock);

    /* A running turn sees `disposed`, emits "interrupted" and ends; after the join nothing
     * else can emit a message or status, so the completion is the last event. */
    stop_worker(a, false);

    pthread_mutex_lock(&a->lock);
    emit_outcome_locked(a, request_id, NULL);
    pthread_mutex_unlock(&a->lock);
    return SWITCHBOARD_OK;
}

static void echo_destroy(switchboard_adapter *a) {
    if (!a) return;
    pthread_mutex_lock(&a->lock);
    a->closed = true; /* from here on emit_locked drops everything */
    a->disposed = true;
    pthread_mutex_unlock(&a->lock);
    stop_worker(a, false);
    adapter_free(a);
}

static void echo_free_buffer(void *buffer) { free(buffer); }

/* ====================================================================================== */
/* The entry point                                                                         */
/* ====================================================================================== */

static const switchboard_plugin_descriptor echo_descriptor = {
    .abi_version = SWITCHBOARD_ABI_VERSION,
    .struct_size = (uint32_t)sizeof(switchboard_plugin_descriptor),
    .agent_type = "echo-c",
    .display_name = "Echo (C example)",
    .plugin_version = "1.0.0",
    .toolchain = ECHO_TOOLCHAIN,
    .create = echo_create,
    .start = echo_start,
    .send_message = echo_send_message,
    .set_model = echo_set_model,
    .interrupt = echo_interrupt,
    .dispose = echo_dispose,
    .destroy = echo_destroy,
    .free_buffer = echo_free_buffer,
};

ECHO_EXPORT const switchboard_plugin_descriptor *switchboard_plugin_v1(void) { return &echo_descriptor; }
