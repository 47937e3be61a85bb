/*
 * switchboard_abi.h — the Switchboard plugin ABI, version 1.
 *
 * This is the only header the Switchboard host and an agent plugin share. A plugin is a
 * shared object (built in Swift with the plugin SDK, or in any language that can export a
 * C function) that exports ONE symbol:
 *
 *     const switchboard_plugin_descriptor *switchboard_plugin_v1(void);
 *
 * The major ABI version is part of the symbol name, so a host never calls an entry point
 * whose layout it does not understand. The descriptor it returns names the agent type and
 * carries the function pointers the host calls.
 *
 * ------------------------------------------------------------------------------------
 * Payloads
 *   Everything structured crosses as UTF-8 JSON with an explicit byte length (never relying
 *   on a terminating NUL). Settings and start options go host -> plugin; events go
 *   plugin -> host through the event callback. Keys marked ? may be absent (or null).
 *
 *   Settings (create): the plugin's own object from the host's config, untouched; "{}".
 *   Start options (start):
 *     {"workspaceName":"w","isHost":false,"containerName"?:"c","agentSessionId"?:"resume-id",
 *      "model"?:"m","projectPath"?:"/p","stateDirectory"?:"/dir-the-adapter-may-use",
 *      "answersDecisions"?:true,"agentType"?:"fast"}
 *   "answersDecisions" is true when the host takes "ask" events and calls `answer`; a host
 *   that predates them omits it and would reject an "ask" event, so a plugin asks only when
 *   it is true (else it decides as it would without a person, e.g. deny).
 *   "agentType" is the agent type the adapter serves (the config may map any type to a
 *   plugin; see SWITCHBOARD_PLUGIN_CONFIGURED_TYPES); a host that predates it omits it.
 *   send_message and set_model take plain UTF-8 text, not JSON.
 *
 * Requests and completion
 *   Every call returns promptly. Work that takes time (starting an agent, a whole turn)
 *   happens on the plugin's own threads. Each call that starts work carries a host-chosen
 *   `request_id` (non-zero); the plugin reports its outcome with exactly one event
 *     {"event":"completed","request":N}   or   {"event":"failed","request":N,"error":"..."}
 *   Other events may carry "request":N too, to say which request caused them.
 *   The integer return of a call is for transport failures only (a NULL handle, a call
 *   after dispose): SWITCHBOARD_OK means "accepted, an outcome event will follow".
 *
 * Events (plugin -> host), one JSON object per callback; every kind may carry "request"?:N.
 *   {"event":"message","message":{MESSAGE}}
 *       MESSAGE: "type": "assistant" | "user" | "system" | "tool_use" | "tool_result" |
 *                        "error" | "done"   (a turn ends with "done" or "error")
 *                "content": text (a reply delta, a tool's input or output, a notice),
 *                "timestamp": ISO-8601 UTC with milliseconds, "2026-01-01T00:00:00.000Z",
 *                "messageId"?: the reply's id (streamed deltas share one),
 *                "toolName"?: on tool_use,  "toolId"?: on tool_use and tool_result,
 *                any other key is passed to clients as is (e.g. "model", "isError", "usage").
 *   {"event":"status","status":"idle"|"running"|"error"|"interrupted","agentSessionId"?:"..."}
 *       "agentSessionId" is the agent's own session id (to resume), once known.
 *   {"event":"error","error":"sentence","code"?:"agentFailure"}
 *       a failure outside any request (the agent died); the session ends the turn in error.
 *       "code" as on failed (this host shows an error event's text only).
 *   {"event":"completed","request":N}
 *   {"event":"failed","request":N,"error":"sentence","code"?:"invalidState"}
 *       "code" is optional: a short identifier (1-64 ASCII letters, digits, '_', starting
 *       with a letter); absent or malformed means "plugin". The host raises the request's
 *       error with this code. Codes: invalidSettings (unusable settings), invalidState (not
 *       allowed now, e.g. a second message while a turn runs), agentFailure (the agent's
 *       process or server failed), notImplemented, protocolViolation (a broken contract),
 *       plugin (anything else). More may be added; a host passes on a code it does not know.
 *   {"event":"ask","ask":{REQUEST}}
 *       The agent needs a person's decision (since descriptor field `answer`; a plugin that
 *       sends it must fill `answer`). REQUEST:
 *         "id": the plugin's id for it, 1-128 bytes, never reused within the adapter,
 *         "kind"?: "permission" (default) | "question",
 *         "toolName": the tool ("Bash", "Edit", "AskUserQuestion", ...),
 *         "toolId"?: the agent's id of the tool call,
 *         "input"?: the tool's input as a JSON object,
 *         "summary"?: one line for people (the command, the file),
 *         "options": the decisions the agent accepts: "allow", "allow_session", "deny" for a
 *                    permission; "answer", "deny" for a question,
 *         "subject"?: what the operator's rules match (a shell command, a file path),
 *         "questions"?: for a question: [{"question":"...","header"?:"...",
 *                       "options":[{"label":"...","description"?:"..."}],"multiSelect"?:false}].
 *       The host shows it to people, may decide it by rule, and answers it at most once
 *       through `answer`; until then the plugin waits (or withdraws it).
 *   {"event":"withdraw","id":"...","reason":"interrupt"|"turn_end"|"dispose"|"agent"}
 *       A request the agent no longer waits for; the host closes it and answers it no more.
 *   A failed `create` returns non-zero with `*out_error`; the host reports it as invalidSettings.
 *
 * Buffer ownership
 *   - Pointers the host passes in (settings, options, text) are valid only for the duration
 *     of the call. A plugin that needs them later copies them.
 *   - The event JSON a plugin passes to the callback is valid only for the duration of the
 *     callback. The host copies what it keeps.
 *   - A string a plugin returns through an out-parameter (create's `out_error`) is
 *     allocated by the plugin and released by the host with the descriptor's `free_buffer`.
 *   - The descriptor and the strings it points to are owned by the plugin and stay valid for
 *     as long as the shared object is loaded. Hosts never dlclose a Swift plugin.
 *
 * Threads
 *   - The host may call any function from any thread, but not concurrently for one adapter
 *     handle (the Swift host serialises calls per adapter).
 *   - The plugin may invoke the event callback from any thread, never concurrently for one
 *     adapter, and in the order the events happened.
 *   - The callback must not call back into the plugin for the same adapter.
 *   - After `destroy` returns, the plugin makes no further callback for that adapter and the
 *     host context may be released.
 *
 * Evolution
 *   - Within a major version, fields are only ever APPENDED to the descriptor. `struct_size`
 *     tells the host how much of the struct this plugin has: a host reads a field only if
 *     it lies entirely below `struct_size` (the Swift host copies the first struct_size
 *     bytes and treats every later field as 0/NULL). Older plugins keep loading into newer
 *     hosts; newer plugins load into older hosts, which ignore the fields they do not know.
 *   - An appended field is optional by definition: a host must cope with it being absent
 *     (or NULL), and must not require it from plugins built before it existed.
 *   - Existing fields never change type, meaning or position; payload JSON only gains
 *     optional keys, and readers ignore keys they do not know.
 *   - A plugin whose descriptor is smaller than the v1 layout is refused.
 *   - A change that is not an append bumps the major version and the entry symbol name
 *     (switchboard_plugin_v2). A host refuses an `abi_version` it does not speak, and a file
 *     that exports only another major's entry symbol, naming both versions. A plugin may
 *     export several entry symbols to load into hosts of either major version.
 */
#ifndef SWITCHBOARD_ABI_H
#define SWITCHBOARD_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The major ABI version this header describes. */
#define SWITCHBOARD_ABI_VERSION 1

/** The name of the entry symbol a version-1 plugin exports. */
#define SWITCHBOARD_PLUGIN_ENTRY_V1 "switchboard_plugin_v1"

/** Call results (transport level). */
#define SWITCHBOARD_OK 0
#define SWITCHBOARD_ERR_INVALID_HANDLE 1
#define SWITCHBOARD_ERR_INVALID_ARGUMENT 2
#define SWITCHBOARD_ERR_DISPOSED 3

/** An adapter instance, opaque to the host. */
typedef struct switchboard_adapter switchboard_adapter;

/**
 * The event callback. `host_context` is the pointer the host passed to `create`; `json`
 * points at `length` bytes of UTF-8 JSON, valid only during the call.
 */
typedef void (*switchboard_event_callback)(void *host_context, const char *json, size_t length);

/** The plugin descriptor, version 1. Fields are only ever appended. */
typedef struct switchboard_plugin_descriptor {
    /** SWITCHBOARD_ABI_VERSION the plugin was built against. */
    uint32_t abi_version;
    /** sizeof(switchboard_plugin_descriptor) as the plugin was compiled. */
    uint32_t struct_size;

    /** The agent type this plugin serves, e.g. "claude": [a-z0-9][a-z0-9._-]*, at most 64 bytes. */
    const char *agent_type;
    /** A human-readable name, e.g. "Claude Code". */
    const char *display_name;
    /** The plugin's own version, e.g. "1.2.0". */
    const char *plugin_version;
    /**
     * The toolchain that built it, e.g. "Swift 6.3.1" or "gcc 12.2.0". Swift has no stable
     * ABI on Linux: a host refuses a plugin whose toolchain starts with "Swift " and is not
     * exactly the host's own (same compiler version). Other toolchains are not checked.
     */
    const char *toolchain;

    /**
     * Creates an adapter. `settings_json` is the plugin's settings object from the host's
     * config file, passed through untouched ("{}" when there are none).
     * On success stores the handle in `*out_adapter` and returns SWITCHBOARD_OK.
     * On failure returns non-zero and may store a plugin-allocated, NUL-terminated message
     * in `*out_error` (released with `free_buffer`).
     */
    int32_t (*create)(const char *settings_json, size_t settings_length,
                      switchboard_event_callback on_event, void *host_context,
                      switchboard_adapter **out_adapter, char **out_error);

    /** Starts the adapter with start options JSON (workspace, container, resume id, model, ...). */
    int32_t (*start)(switchboard_adapter *adapter, uint64_t request_id,
                     const char *options_json, size_t options_length);

    /** Sends one user message (UTF-8 text, not JSON). Completes when the turn is accepted. */
    int32_t (*send_message)(switchboard_adapter *adapter, uint64_t request_id,
                            const char *text, size_t text_length);

    /** Sets the model used from the next turn on (UTF-8 text). */
    int32_t (*set_model)(switchboard_adapter *adapter, uint64_t request_id,
                         const char *model, size_t model_length);

    /** Interrupts the running turn, if any. */
    int32_t (*interrupt)(switchboard_adapter *adapter, uint64_t request_id);

    /**
     * Stops the agent: when it completes, every process the adapter started is gone and no
     * further message or status event follows (only the completion itself).
     */
    int32_t (*dispose)(switchboard_adapter *adapter, uint64_t request_id);

    /**
     * Releases the handle. After it returns no callback is made for this adapter. Hosts
     * call `dispose` and wait for its completion first; a plugin still stops its agent
     * when `destroy` comes alone.
     */
    void (*destroy)(switchboard_adapter *adapter);

    /** Frees a buffer the plugin allocated and handed to the host. */
    void (*free_buffer)(void *buffer);

    /* ---- Appended fields: each optional (NULL, or beyond a smaller struct_size) ---- */

    /**
     * Answers a decision request the plugin opened with an "ask" event. `answer_json` is
     *   {"id":"<the plugin's request id>","decision":"allow"|"allow_session"|"deny"|"answer",
     *    "message"?:"why, for a deny","answers"?:{"<question>":"<chosen label or own words>"}}
     * The host answers each request at most once, and never one the plugin withdrew (a
     * withdrawal in flight can cross an answer: the plugin then fails the request). Completes
     * like every request: "completed", or "failed" with code "unknownRequest" when no request
     * with that id is open, "invalidState" when the answer does not fit it. Plugins that
     * never ask may leave it NULL; the host then never calls it.
     */
    int32_t (*answer)(switchboard_adapter *adapter, uint64_t request_id,
                      const char *answer_json, size_t answer_length);

    /**
     * SWITCHBOARD_PLUGIN_* bits saying how the plugin is to be used; 0 for none. Hosts ignore
     * bits they do not know, and plugins set no bit this header does not define.
     */
    uint64_t plugin_flags;
} switchboard_plugin_descriptor;

/**
 * `plugin_flags`: a bridge to a family of agents (every ACP agent, say), serving whichever
 * agent types the host's config names it for with `agents.<type>.plugin`, each with that
 * entry's settings. Its declared `agent_type` names the family: found by a directory scan,
 * it serves that type only when the config has an `agents.<agent_type>` entry (settings are
 * what make it useful). The host tells each adapter its type in the start option "agentType".
 */
#define SWITCHBOARD_PLUGIN_CONFIGURED_TYPES 0x1ULL /* bit 0 */

/**
 * The size of the first version-1 descriptor: the end of its last original field, `free_buffer` (104 bytes
 * on 64-bit Linux). The smallest `struct_size` a host accepts; it does not grow when fields are
 * appended (plugins set `struct_size` to sizeof(switchboard_plugin_descriptor), not to this).
 * Inline, so a plugin that calls it needs nothing from the host to link.
 */
static inline size_t switchboard_descriptor_v1_size(void) {
    return offsetof(switchboard_plugin_descriptor, free_buffer) + sizeof(void (*)(void *));
}

/** The type of the entry symbol. */
typedef const switchboard_plugin_descriptor *(*switchboard_plugin_entry_v1)(void);

#ifdef __cplusplus
}
#endif

#endif /* SWITCHBOARD_ABI_H */
