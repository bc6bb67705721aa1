/* placeholder until the envelope codec lands */
#include "pa_proto.h"
