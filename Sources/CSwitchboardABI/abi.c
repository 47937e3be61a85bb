/* The ABI is the header alone (its one function is `static inline`). SwiftPM needs a source
 * file in every C target; this is it. */
#include "switchboard_abi.h"
