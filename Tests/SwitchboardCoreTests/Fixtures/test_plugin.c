/*
 * A configurable plugin for the loader's tests. Each -D selects one way to be broken:
 *   NO_ENTRY        exports no entry symbol at all
 *   V2_ONLY         exports only switchboard_plugin_v2 (a future major version)
 *   NULL_ENTRY      the entry returns NULL
 *   ABI_VERSION=n   reports abi_version n
 *   STRUCT_SIZE=n   reports struct_size n
 *   AGENT_TYPE="x"  declares agent type x (default "fixture")
 *   TOOLCHAIN="x"   declares toolchain x (default "cc")
 *   FAILS_WITH_CODE send_message fails with code "invalidState"; set_model fails with a
 *                   malformed code (which the host reads as "plugin")
 *   CREATE_FAILS    create fails with a message
 *   MALFORMED       send_message emits malformed and unknown events before completing
 *   BOTH_V1_V2      exports switchboard_plugin_v1 and switchboard_plugin_v2
 *   PLUGIN_FLAGS=n  sets plugin_flags to n (SWITCHBOARD_PLUGIN_CONFIGURED_TYPES is 1); with
 *                   STRUCT_SIZE=112 the flags lie beyond struct_size and must not be read
 *   GROWN           built against a "newer v1" header: the descriptor has two fields appended
 *                   after the header's last one (homepage, flags) and a struct_size to match
 *   GUARDED_V1      the descriptor is a frozen copy of the v1 layout, placed so that its last
 *                   byte is the last readable byte before a PROT_NONE page: reading one byte
 *                   past struct_size crashes the host
 * Without any of them it is a small, correct plugin that answers every request at once.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include "switchboard_abi.h"
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

#ifndef AGENT_TYPE
#define AGENT_TYPE "fixture"
#endif

#ifndef TOOLCHAIN
#define TOOLCHAIN "cc"
#endif

struct switchboard_adapter {
    switchboard_event_callback callback;
    void *context;
};

static void emit(struct switchboard_adapter *a, const char *json) {
    a->callback(a->context, json, strlen(json));
}

static void complete(struct switchboard_adapter *a, uint64_t request) {
    char buffer[96];
    snprintf(buffer, sizeof buffer, "{\"event\":\"completed\",\"request\":%llu}", (unsigned long long)request);
    emit(a, buffer);
}

#ifdef FAILS_WITH_CODE
static void fail(struct switchboard_adapter *a, uint64_t request, const char *error, const char *code) {
    char buffer[256];
    snprintf(buffer, sizeof buffer, "{\"event\":\"failed\",\"request\":%llu,\"error\":\"%s\",\"code\":\"%s\"}",
             (unsigned long long)request, error, code);
    emit(a, buffer);
}
#endif

static int32_t fixture_create(const char *settings, size_t length, switchboard_event_callback cb, void *ctx,
                              switchboard_adapter **out, char **error) {
    (void)settings; (void)length;
#ifdef CREATE_FAILS
    (void)cb; (void)ctx; (void)out;
    *error = strdup("settings.apiKey is required");
    return 1;
#else
    (void)error;
    struct switchboard_adapter *a = calloc(1, sizeof *a);
    a->callback = cb;
    a->context = ctx;
    *out = a;
    return SWITCHBOARD_OK;
#endif
}

static int32_t fixture_start(switchboard_adapter *a, uint64_t request, const char *json, size_t length) {
    (void)json; (void)length;
    complete(a, request);
    return SWITCHBOARD_OK;
}

static int32_t fixture_send(switchboard_adapter *a, uint64_t request, const char *text, size_t length) {
    (void)text; (void)length;
#ifdef FAILS_WITH_CODE
    fail(a, request, "Not now.", "invalidState");
    return SWITCHBOARD_OK;
#endif
#ifdef MALFORMED
    emit(a, "{\"event\":\"message\",\"message\":{\"type\":\"assistant\",");
    emit(a, "{\"event\":\"teleport\"}");
    emit(a, "{\"event\":\"message\",\"message\":{\"type\":\"shout\",\"content\":\"x\"}}");
#endif
    emit(a, "{\"event\":\"status\",\"status\":\"running\",\"agentSessionId\":\"fixture-session\"}");
    emit(a, "{\"event\":\"message\",\"message\":{\"type\":\"assistant\",\"content\":\"ok\",\"timestamp\":\"2026-01-01T00:00:00.000Z\"}}");
    emit(a, "{\"event\":\"message\",\"message\":{\"type\":\"done\",\"content\":\"Response complete\",\"timestamp\":\"2026-01-01T00:00:00.000Z\"}}");
    emit(a, "{\"event\":\"status\",\"status\":\"idle\"}");
    complete(a, request);
    return SWITCHBOARD_OK;
}

static int32_t fixture_set_model(switchboard_adapter *a, uint64_t request, const char *m, size_t n) {
    (void)m; (void)n;
#ifdef FAILS_WITH_CODE
    fail(a, request, "No such model.", "no such code!");
    return SWITCHBOARD_OK;
#endif
    complete(a, request);
    return SWITCHBOARD_OK;
}

static int32_t fixture_interrupt(switchboard_adapter *a, uint64_t request) {
    complete(a, request);
    return SWITCHBOARD_OK;
}

static int32_t fixture_dispose(switchboard_adapter *a, uint64_t request) {
    complete(a, request);
    return SWITCHBOARD_OK;
}

static void fixture_destroy(switchboard_adapter *a) { free(a); }

static void fixture_free(void *p) { free(p); }

__attribute__((unused)) static const switchboard_plugin_descriptor descriptor = {
#ifdef ABI_VERSION
    .abi_version = ABI_VERSION,
#else
    .abi_version = SWITCHBOARD_ABI_VERSION,
#endif
#ifdef STRUCT_SIZE
    .struct_size = STRUCT_SIZE,
#else
    .struct_size = sizeof(switchboard_plugin_descriptor),
#endif
    .agent_type = AGENT_TYPE,
    .display_name = "Test fixture",
    .plugin_version = "0.0.1",
    .toolchain = TOOLCHAIN,
    .create = fixture_create,
    .start = fixture_start,
    .send_message = fixture_send,
    .set_model = fixture_set_model,
    .interrupt = fixture_interrupt,
    .dispose = fixture_dispose,
    .destroy = fixture_destroy,
    .free_buffer = fixture_free,
#ifdef PLUGIN_FLAGS
    .plugin_flags = PLUGIN_FLAGS,
#endif
};

/* The descriptor as version 1 of the header laid it out, frozen: it does not grow when the
 * header does, so this fixture stays "a plugin built against the v1 header". */
typedef struct {
    uint32_t abi_version;
    uint32_t struct_size;
    const char *agent_type;
    const char *display_name;
    const char *plugin_version;
    const char *toolchain;
    int32_t (*create)(const char *, size_t, switchboard_event_callback, void *, switchboard_adapter **, char **);
    int32_t (*start)(switchboard_adapter *, uint64_t, const char *, size_t);
    int32_t (*send_message)(switchboard_adapter *, uint64_t, const char *, size_t);
    int32_t (*set_model)(switchboard_adapter *, uint64_t, const char *, size_t);
    int32_t (*interrupt)(switchboard_adapter *, uint64_t);
    int32_t (*dispose)(switchboard_adapter *, uint64_t);
    void (*destroy)(switchboard_adapter *);
    void (*free_buffer)(void *);
} frozen_v1_descriptor;

_Static_assert(offsetof(frozen_v1_descriptor, free_buffer) == offsetof(switchboard_plugin_descriptor, free_buffer),
               "the frozen v1 layout must match the header's v1 fields");

/* The header's descriptor with two fields appended, as a later v1.x header might add them. */
typedef struct {
    switchboard_plugin_descriptor v1;
    const char *homepage;
    uint64_t flags;
} grown_descriptor;

__attribute__((unused)) static const grown_descriptor grown = {
    .v1 = {
        .abi_version = SWITCHBOARD_ABI_VERSION,
        .struct_size = sizeof(grown_descriptor),
        .agent_type = "grown",
        .display_name = "Grown descriptor",
        .plugin_version = "1.1.0",
        .toolchain = "cc",
        .create = fixture_create,
        .start = fixture_start,
        .send_message = fixture_send,
        .set_model = fixture_set_model,
        .interrupt = fixture_interrupt,
        .dispose = fixture_dispose,
        .destroy = fixture_destroy,
        .free_buffer = fixture_free,
    },
    .homepage = "https://example.invalid/grown",
    .flags = 42,
};

__attribute__((unused)) static const frozen_v1_descriptor frozen = {
    .abi_version = 1,
    .struct_size = sizeof(frozen_v1_descriptor),
    .agent_type = "guarded",
    .display_name = "Guarded v1 descriptor",
    .plugin_version = "1.0.0",
    .toolchain = "cc",
    .create = fixture_create,
    .start = fixture_start,
    .send_message = fixture_send,
    .set_model = fixture_set_model,
    .interrupt = fixture_interrupt,
    .dispose = fixture_dispose,
    .destroy = fixture_destroy,
    .free_buffer = fixture_free,
};

/* The frozen descriptor, copied to the end of a read-only page that a PROT_NONE page follows. */
__attribute__((unused)) static const void *guarded_descriptor(void) {
    static const void *placed;
    if (placed) return placed;
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *region = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) return NULL;
    unsigned char *slot = region + page - sizeof(frozen_v1_descriptor);
    memcpy(slot, &frozen, sizeof frozen);
    if (mprotect(region + page, (size_t)page, PROT_NONE) != 0 || mprotect(region, (size_t)page, PROT_READ) != 0) return NULL;
    placed = slot;
    return placed;
}

#if defined(NO_ENTRY)
EXPORT int not_a_switchboard_plugin(void) { return 42; }
#elif defined(V2_ONLY)
EXPORT const switchboard_plugin_descriptor *switchboard_plugin_v2(void) { return &descriptor; }
#elif defined(BOTH_V1_V2)
EXPORT const switchboard_plugin_descriptor *switchboard_plugin_v1(void) { return &descriptor; }
EXPORT const switchboard_plugin_descriptor *switchboard_plugin_v2(void) { return &descriptor; }
#elif defined(GROWN)
EXPORT const switchboard_plugin_descriptor *switchboard_plugin_v1(void) { return &grown.v1; }
#elif defined(GUARDED_V1)
EXPORT const switchboard_plugin_descriptor *switchboard_plugin_v1(void) { return guarded_descriptor(); }
#elif defined(NULL_ENTRY)
EXPORT const switchboard_plugin_descriptor *switchboard_plugin_v1(void) { return NULL; }
#else
EXPORT const switchboard_plugin_descriptor *switchboard_plugin_v1(void) { return &descriptor; }
#endif
