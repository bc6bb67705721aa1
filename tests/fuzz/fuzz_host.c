/* libFuzzer target for the HTTP edge's Host rule (gateway/gw_host.c).
 *
 * Input: any bytes, a Host value. Checks: the answer is one of the three kinds; a loopback answer
 * is only given to a value that starts with "localhost", "127." or "[::1]" (case-insensitive)
 * and holds no byte outside [0-9A-Za-z.:[\]]; nothing reads outside the input (ASan).
 *
 * Sources: this file, gateway/gw_host.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1); /* exactly size bytes: ASan sees any read past them */
    if (!s) return 0;
    if (size) memcpy(s, data, size);
    gw_host_kind_t k = gw_host_kind(s, size);
    if (k != GW_HOST_BAD && k != GW_HOST_OTHER && k != GW_HOST_LOOPBACK) abort();
    if (k == GW_HOST_LOOPBACK) {
        int prefix = (size >= 9 && strncasecmp(s, "localhost", 9) == 0) ||
                     (size >= 4 && memcmp(s, "127.", 4) == 0) ||
                     (size >= 5 && memcmp(s, "[::1]", 5) == 0);
        if (!prefix) {
            fprintf(stderr, "fuzz_host: loopback without a loopback name\n");
            abort();
        }
        for (size_t i = 0; i < size; i++) {
            char c = s[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '.' || c == ':' || c == '[' || c == ']')) {
                fprintf(stderr, "fuzz_host: loopback with byte 0x%02x\n", (unsigned char)c);
                abort();
            }
        }
    }
    free(s);
    return 0;
}
