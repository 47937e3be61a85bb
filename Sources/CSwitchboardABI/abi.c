#include "switchboard_abi.h"

/* The size of the v1 descriptor: the end of its last field, free_buffer. This is the minimum
 * a host accepts, and it does not change when fields are appended to the struct (which is why
 * it is not simply sizeof(switchboard_plugin_descriptor)). */
size_t switchboard_descriptor_v1_size(void) {
    return offsetof(switchboard_plugin_descriptor, free_buffer) + sizeof(((switchboard_plugin_descriptor *)0)->free_buffer);
}
