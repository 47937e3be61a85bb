/*
 * A plugin that misbehaves on command, for the isolation tests. Agent type "crashy".
 * The text of a message picks what send_message does:
 *   segv          dereferences NULL inside the call
 *   abort         calls abort() inside the call
 *   exit          calls exit(3) inside the call
 *   spin          never returns from the call
 *   nocompletion  returns, says "running", and never sends the request's outcome
 *   flood         completes, then floods message events from 8 threads at once (an ABI
 *                 violation: callbacks are serialised per adapter), then ends the turn
 *   late          ends the turn normally, then keeps calling back after destroy (another
 *                 ABI violation); when it is done it creates the file settings.marker
 *   malformed     sends an event that is not JSON, then completes
 *   anything else replies "echo: <text>" and ends the turn
 * Settings: {"marker": "/path"} (for late). Built by the tests with the system C compiler.
 */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include "switchboard_abi.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#define EXPORT __attribute__((visibility("default")))

struct switchboard_adapter {
    switchboard_event_callback callback;
    void *context;
    char marker[512];
    /* Raised by destroy for a late thread; the flag itself is never freed. */
    volatile int *late_flag;
};

static void emit(switchboard_event_callback cb, void *ctx, const char *json) {
    cb(ctx, json, strlen(json));
}

static void emitf(struct switchboard_adapter *a, const char *format, unsigned long long n) {
    char buffer[256];
    snprintf(buffer, sizeof buffer, format, n);
    emit(a->callback, a->context, buffer);
}

static void complete(struct switchboard_adapter *a, uint64_t request) {
    emitf(a, "{\"event\":\"completed\",\"request\":%llu}", (unsigned long long)request);
}

static void end_turn(struct switchboard_adapter *a, const char *text) {
    char buffer[1024];
    snprintf(buffer, sizeof buffer,
             "{\"event\":\"message\",\"message\":{\"type\":\"assistant\",\"content\":\"%s\",\"timestamp\":\"2026-01-01T00:00:00.000Z\"}}", text);
    emit(a->callback, a->context, buffer);
    emit(a->callback, a->context, "{\"event\":\"message\",\"message\":{\"type\":\"done\",\"content\":\"\",\"timestamp\":\"2026-01-01T00:00:00.000Z\"}}");
    emit(a->callback, a->context, "{\"event\":\"status\",\"status\":\"idle\"}");
}

static int32_t crashy_create(const char *settings, size_t length, switchboard_event_callback cb, void *ctx,
                             switchboard_adapter **out, char **error) {
    (void)length; (void)error;
    struct switchboard_adapter *a = calloc(1, sizeof *a);
    a->callback = cb;
    a->context = ctx;
    const char *key = strstr(settings, "\"marker\":\"");
    if (key) {
        key += strlen("\"marker\":\"");
        size_t n = 0;
        while (key[n] && key[n] != '"' && n < sizeof a->marker - 1) { a->marker[n] = key[n]; n++; }
        a->marker[n] = 0;
    }
    *out = a;
    return SWITCHBOARD_OK;
}

static int32_t crashy_start(switchboard_adapter *a, uint64_t request, const char *options, size_t length) {
    (void)options; (void)length;
    emit(a->callback, a->context, "{\"event\":\"status\",\"status\":\"idle\",\"agentSessionId\":\"crashy-1\"}");
    complete(a, request);
    return SWITCHBOARD_OK;
}

/* ---- flood ---- */
/* Each event carries a 16 KiB field the host skips but must read: its callback lasts long
 * enough that eight threads released by one barrier are inside it together, also on a busy
 * machine (a small event is read so fast that the calls rarely overlap). */
#define FLOOD_PAD 16384
struct flood {
    struct switchboard_adapter *adapter;
    pthread_barrier_t *barrier;
    const char *event;
};

static void *flood_thread(void *arg) {
    struct flood *f = arg;
    for (int round = 0; round < 200; round++) {
        pthread_barrier_wait(f->barrier);
        emit(f->adapter->callback, f->adapter->context, f->event);
    }
    return NULL;
}

static void *flood_all(void *arg) {
    struct switchboard_adapter *a = arg;
    static const char head[] = "{\"event\":\"message\",\"pad\":\"";
    static const char tail[] = "\",\"message\":{\"type\":\"assistant\",\"content\":\"x\",\"timestamp\":\"2026-01-01T00:00:00.000Z\"}}";
    char *event = malloc(sizeof head + FLOOD_PAD + sizeof tail);
    if (event == NULL) { end_turn(a, "flooded"); return NULL; }
    memcpy(event, head, sizeof head - 1);
    memset(event + sizeof head - 1, 'p', FLOOD_PAD);
    memcpy(event + sizeof head - 1 + FLOOD_PAD, tail, sizeof tail);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 8);
    pthread_t threads[8];
    struct flood f = { a, &barrier, event };
    for (int i = 0; i < 8; i++) pthread_create(&threads[i], NULL, flood_thread, &f);
    for (int i = 0; i < 8; i++) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&barrier);
    free(event);
    end_turn(a, "flooded");
    return NULL;
}

/* ---- late ---- */
struct late {
    switchboard_event_callback callback;
    void *context;
    volatile int *destroyed;
    char marker[512];
};

static void *late_thread(void *arg) {
    struct late *l = arg;
    while (!*l->destroyed) usleep(10000);
    usleep(50000);
    for (int i = 0; i < 100; i++) {
        emit(l->callback, l->context, "{\"event\":\"status\",\"status\":\"running\"}");
        usleep(1000);
    }
    if (l->marker[0]) {
        int fd = open(l->marker, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) close(fd);
    }
    return NULL;
}

static int32_t crashy_send(switchboard_adapter *a, uint64_t request, const char *text, size_t length) {
    char command[64] = {0};
    memcpy(command, text, length < sizeof command - 1 ? length : sizeof command - 1);
    if (strcmp(command, "segv") == 0) {
        volatile int *null = NULL;
        *null = 1;
    }
    if (strcmp(command, "abort") == 0) abort();
    if (strcmp(command, "exit") == 0) exit(3);
    if (strcmp(command, "spin") == 0) {
        for (;;) { __asm__ volatile(""); }
    }
    emit(a->callback, a->context, "{\"event\":\"status\",\"status\":\"running\"}");
    if (strcmp(command, "nocompletion") == 0) return SWITCHBOARD_OK;
    if (strcmp(command, "malformed") == 0) {
        emit(a->callback, a->context, "{not json");
        complete(a, request);
        return SWITCHBOARD_OK;
    }
    complete(a, request);
    if (strcmp(command, "flood") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, flood_all, a);
        pthread_detach(t);
        return SWITCHBOARD_OK;
    }
    if (strcmp(command, "late") == 0) {
        struct late *l = calloc(1, sizeof *l);
        l->callback = a->callback;
        l->context = a->context;
        l->destroyed = calloc(1, sizeof(int));
        a->late_flag = l->destroyed;
        memcpy(l->marker, a->marker, sizeof l->marker);
        end_turn(a, "late armed");
        pthread_t t;
        pthread_create(&t, NULL, late_thread, l);
        pthread_detach(t);
        return SWITCHBOARD_OK;
    }
    char reply[128];
    snprintf(reply, sizeof reply, "echo: %s", command);
    end_turn(a, reply);
    return SWITCHBOARD_OK;
}

static int32_t crashy_set_model(switchboard_adapter *a, uint64_t request, const char *model, size_t length) {
    (void)model; (void)length;
    complete(a, request);
    return SWITCHBOARD_OK;
}

static int32_t crashy_interrupt(switchboard_adapter *a, uint64_t request) {
    emit(a->callback, a->context, "{\"event\":\"status\",\"status\":\"interrupted\"}");
    complete(a, request);
    return SWITCHBOARD_OK;
}

static int32_t crashy_dispose(switchboard_adapter *a, uint64_t request) {
    complete(a, request);
    return SWITCHBOARD_OK;
}

static void crashy_destroy(switchboard_adapter *a) {
    if (a->late_flag) *a->late_flag = 1;
    free(a);
}

static void crashy_free(void *buffer) { free(buffer); }

static const switchboard_plugin_descriptor descriptor = {
    .abi_version = SWITCHBOARD_ABI_VERSION,
    .struct_size = sizeof(switchboard_plugin_descriptor),
    .agent_type = "crashy",
    .display_name = "Crashy (misbehaves on command)",
    .plugin_version = "1.0.0",
    .toolchain = "cc",
    .create = crashy_create,
    .start = crashy_start,
    .send_message = crashy_send,
    .set_model = crashy_set_model,
    .interrupt = crashy_interrupt,
    .dispose = crashy_dispose,
    .destroy = crashy_destroy,
    .free_buffer = crashy_free,
    .answer = NULL,
};

EXPORT const switchboard_plugin_descriptor *switchboard_plugin_v1(void) { return &descriptor; }
