/*
 * A configurable plugin for the loader's tests. Each -D selects one way to be broken:
 *   NO_ENTRY        exports no entry symbol at all
 *   V2_ONLY         exports only switchboard_plugin_v2 (a future major version)
 *   NULL_ENTRY      the entry returns NULL
 *   ABI_VERSION=n   reports abi_version n
 *   STRUCT_SIZE=n   reports struct_size n
 *   AGENT_TYPE="x"  declares agent type x (default "fixture")
 *   CREATE_FAILS    create fails with a message
 *   MALFORMED       send_message emits malformed and unknown events before completing
 * Without any of them it is a small, correct plugin that answers every request at once.
 */
#define _POSIX_C_SOURCE 200809L
#include "switchboard_abi.h"
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#define EXPORT __attribute__((visibility("default")))

#ifndef AGENT_TYPE
#define AGENT_TYPE "fixture"
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

#if defined(NO_ENTRY)
EXPORT int not_a_switchboard_plugin(void) { return 42; }
#elif defined(V2_ONLY)
EXPORT const switchboard_plugin_descriptor *switchboard_plugin_v2(void) { return &descriptor; }
#elif defined(NULL_ENTRY)
EXPORT const switchboard_plugin_descriptor *switchboard_plugin_v1(void) { return NULL; }
#else
EXPORT const switchboard_plugin_descriptor *switchboard_plugin_v1(void) { return &descriptor; }
#endif
