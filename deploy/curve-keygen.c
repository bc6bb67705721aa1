/* prospect-curve-keygen [PUBLIC_CERT_FILE]: a new CURVE key pair for the worker link.
 * Prints "public <z85>" and "secret <z85>" (40 characters each) on standard output; with a file
 * name, also writes the public certificate there in czmq's format (a file for the gateway's
 * CURVE_CLIENTS_DIR). Keys holding '$' or '#' are drawn again, so either key can stand unquoted
 * in a compose .env file or a shell (Z85 has both; this costs under 3 bits of the 256). Built
 * by CMake (tools/CMakeLists.txt) and into the deploy image (deploy/Dockerfile). */
#include <czmq.h>
#include <stdio.h>
#include <string.h>

static int env_safe(const char *z85)
{
    return !strpbrk(z85, "$#");
}

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: prospect-curve-keygen [PUBLIC_CERT_FILE]\n");
        return 2;
    }
    zcert_t *c = NULL;
    for (int i = 0; i < 1000; i++) {
        c = zcert_new();
        if (!c || (env_safe(zcert_public_txt(c)) && env_safe(zcert_secret_txt(c)))) break;
        zcert_destroy(&c);
    }
    if (!c) {
        fprintf(stderr, "prospect-curve-keygen: cannot make a key pair\n");
        return 1;
    }
    if (argc == 2 && zcert_save_public(c, argv[1]) != 0) {
        fprintf(stderr, "prospect-curve-keygen: cannot write %s\n", argv[1]);
        zcert_destroy(&c);
        return 1;
    }
    printf("public %s\nsecret %s\n", zcert_public_txt(c), zcert_secret_txt(c));
    zcert_destroy(&c);
    return 0;
}
