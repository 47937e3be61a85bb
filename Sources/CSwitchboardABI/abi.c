#include "switchboard_abi.h"

/* The size of the v1 descriptor as this header lays it out: the minimum a host accepts. */
size_t switchboard_descriptor_v1_size(void) {
    return sizeof(switchboard_plugin_descriptor);
}
