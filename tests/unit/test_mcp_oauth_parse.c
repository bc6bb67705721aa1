/* The pure parts of the MCP authorization client (workers/mcp/mcp_oauth_parse.c). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_oauth_parse.h"

static char err[256];

/* ---- WWW-Authenticate ---- */

Test(mcp_oauth_challenge, bearer_with_quoted_parameters)
{
    mcp_oauth_challenge_t c;
    cr_assert_eq(mcp_oauth_parse_challenge(
                     "Bearer error=\"invalid_token\", error_description=\"Missing "
                     "Authorization header\", resource_metadata=\"http://localhost:1/.well-known/"
                     "oauth-protected-resource/mcp\"",
                     "Bearer", &c),
                 0);
    cr_assert_str_eq(c.error, "invalid_token");
    cr_assert_str_eq(c.error_description, "Missing Authorization header");
    cr_assert_str_eq(c.resource_metadata,
                     "http://localhost:1/.well-known/oauth-protected-resource/mcp");
    cr_assert_null(c.scope);
    mcp_oauth_challenge_free(&c);
}

Test(mcp_oauth_challenge, scheme_and_names_without_case_tokens_and_escapes)
{
    mcp_oauth_challenge_t c;
    cr_assert_eq(mcp_oauth_parse_challenge("bearer SCOPE=\"a b\\\"c\",Error=insufficient_scope",
                                           "Bearer", &c),
                 0);
    cr_assert_str_eq(c.scope, "a b\"c");
    cr_assert_str_eq(c.error, "insufficient_scope");
    mcp_oauth_challenge_free(&c);
    /* no parameters at all */
    cr_assert_eq(mcp_oauth_parse_challenge("Bearer", "Bearer", &c), 0);
    cr_assert_null(c.scope);
    mcp_oauth_challenge_free(&c);
    /* the first of a repeated parameter */
    cr_assert_eq(mcp_oauth_parse_challenge("Bearer scope=a, scope=b", "Bearer", &c), 0);
    cr_assert_str_eq(c.scope, "a");
    mcp_oauth_challenge_free(&c);
}

Test(mcp_oauth_challenge, several_challenges)
{
    mcp_oauth_challenge_t c;
    cr_assert_eq(mcp_oauth_parse_challenge("Basic realm=\"x\", DPoP algs=\"ES256\", Bearer "
                                           "scope=\"mcp:basic\", resource_metadata=\"u\"",
                                           "Bearer", &c),
                 0);
    cr_assert_str_eq(c.scope, "mcp:basic");
    cr_assert_str_eq(c.resource_metadata, "u");
    cr_assert_null(c.realm);
    mcp_oauth_challenge_free(&c);
    /* a token68 before */
    cr_assert_eq(mcp_oauth_parse_challenge("Negotiate abc==, Bearer realm=r", "Bearer", &c), 0);
    cr_assert_str_eq(c.realm, "r");
    mcp_oauth_challenge_free(&c);
    cr_assert_eq(mcp_oauth_parse_challenge("Newauth realm=\"apps\", type=1, Bearer", "Bearer", &c),
                 0);
    mcp_oauth_challenge_free(&c);
    /* the first Bearer wins */
    cr_assert_eq(mcp_oauth_parse_challenge("Bearer scope=a, Bearer scope=b", "Bearer", &c), 0);
    cr_assert_str_eq(c.scope, "a");
    mcp_oauth_challenge_free(&c);
}

Test(mcp_oauth_challenge, refusals)
{
    mcp_oauth_challenge_t c;
    const char *bad[] = {
        NULL,
        "",
        "   ",
        "Basic realm=x",
        "Bearer scope=\"unterminated",
        "Bearer scope=\"a\" junk",
        "Bearer =x",
        "Bearer scope=\"a\\",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(mcp_oauth_parse_challenge(bad[i], "Bearer", &c), -1, "accepted [%s]",
                     bad[i] ? bad[i] : "NULL");
        cr_assert_null(c.scope);
        cr_assert_null(c.resource_metadata);
    }
    /* a value too long */
    size_t n = MCP_OAUTH_MAX_VALUE + 100;
    char *big = malloc(n + 32);
    strcpy(big, "Bearer scope=\"");
    memset(big + 14, 'a', n);
    strcpy(big + 14 + n, "\"");
    cr_assert_eq(mcp_oauth_parse_challenge(big, "Bearer", &c), -1);
    free(big);
}

/* ---- protected-resource metadata ---- */

Test(mcp_oauth_prm, accepted)
{
    mcp_oauth_prm_t p;
    const char *j = "{\"resource\":\"http://localhost:3/mcp\",\"authorization_servers\":"
                    "[\"http://localhost:4/tenant1\",\"https://b\"],\"scopes_supported\":"
                    "[\"mcp:basic\",\"mcp:read\"],\"extra\":1}";
    cr_assert_eq(mcp_oauth_parse_prm(j, strlen(j), &p, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(p.resource, "http://localhost:3/mcp");
    cr_assert_eq(p.n_as, 2);
    cr_assert_str_eq(p.authorization_servers[0], "http://localhost:4/tenant1");
    cr_assert_str_eq(p.scopes_supported, "mcp:basic mcp:read");
    mcp_oauth_prm_free(&p);
    j = "{\"resource\":\"r\",\"authorization_servers\":[\"https://a\"],\"scopes_supported\":[]}";
    cr_assert_eq(mcp_oauth_parse_prm(j, strlen(j), &p, err, sizeof err), 0, "%s", err);
    cr_assert_null(p.scopes_supported);
    mcp_oauth_prm_free(&p);
}

Test(mcp_oauth_prm, refused)
{
    mcp_oauth_prm_t p;
    const char *bad[] = {
        "",
        "[]",
        "{",
        "{\"authorization_servers\":[\"https://a\"]}",
        "{\"resource\":\"r\"}",
        "{\"resource\":\"r\",\"authorization_servers\":[]}",
        "{\"resource\":\"r\",\"authorization_servers\":[\"ftp://a\"]}",
        "{\"resource\":\"r\",\"authorization_servers\":[1]}",
        "{\"resource\":5,\"authorization_servers\":[\"https://a\"]}",
        "{\"resource\":\"r\",\"authorization_servers\":[\"https://a\"],\"scopes_supported\":\"a\"}",
        "{\"resource\":\"r\",\"authorization_servers\":[\"https://a\"],\"scopes_supported\":[\"a "
        "b\"]}",
        "{\"resource\":\"r\",\"resource\":\"s\",\"authorization_servers\":[\"https://a\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(mcp_oauth_parse_prm(bad[i], strlen(bad[i]), &p, err, sizeof err), -1,
                     "accepted %s", bad[i]);
        cr_assert(err[0]);
        cr_assert_null(p.resource);
    }
}

/* ---- authorization-server metadata ---- */

Test(mcp_oauth_asm, accepted)
{
    mcp_oauth_asm_t m;
    const char *j =
        "{\"issuer\":\"http://localhost:4/tenant1\",\"authorization_endpoint\":\"http://"
        "localhost:4/tenant1/authorize\",\"token_endpoint\":\"http://localhost:4/tenant1/"
        "token\",\"registration_endpoint\":\"http://localhost:4/tenant1/register\","
        "\"response_types_supported\":[\"code\"],\"grant_types_supported\":[\"authorization_"
        "code\"],\"code_challenge_methods_supported\":[\"S256\"],\"authorization_response_iss_"
        "parameter_supported\":true,\"token_endpoint_auth_methods_supported\":[\"client_"
        "secret_post\",\"none\"],\"scopes_supported\":[\"mcp:basic\",\"offline_access\"],"
        "\"client_id_metadata_document_supported\":true,\"dpop_signing_alg_values_"
        "supported\":[\"RS256\",\"ES256\"]}";
    cr_assert_eq(mcp_oauth_parse_as_metadata(j, strlen(j), &m, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(m.issuer, "http://localhost:4/tenant1");
    cr_assert_str_eq(m.token_endpoint, "http://localhost:4/tenant1/token");
    cr_assert_str_eq(m.registration_endpoint, "http://localhost:4/tenant1/register");
    cr_assert_eq(m.auth_methods, MCP_OAUTH_AUTH_POST | MCP_OAUTH_AUTH_NONE);
    cr_assert(m.cimd_supported && m.iss_supported && m.s256_supported && m.dpop_es256);
    cr_assert_not(m.refresh_supported);
    cr_assert_str_eq(m.scopes_supported, "mcp:basic offline_access");
    mcp_oauth_asm_free(&m);
    /* the defaults of RFC 8414 */
    j = "{\"issuer\":\"https://a\",\"token_endpoint\":\"https://a/t\"}";
    cr_assert_eq(mcp_oauth_parse_as_metadata(j, strlen(j), &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.auth_methods, MCP_OAUTH_AUTH_BASIC);
    cr_assert(m.refresh_supported);
    cr_assert_not(m.cimd_supported || m.iss_supported || m.s256_supported || m.dpop_es256);
    cr_assert_null(m.authorization_endpoint);
    cr_assert_null(m.registration_endpoint);
    mcp_oauth_asm_free(&m);
}

Test(mcp_oauth_asm, refused)
{
    mcp_oauth_asm_t m;
    const char *bad[] = {
        "null",
        "{\"token_endpoint\":\"https://a/t\"}",
        "{\"issuer\":\"https://a\"}",
        "{\"issuer\":\"https://a\",\"token_endpoint\":\"/t\"}",
        "{\"issuer\":\"https://a\",\"token_endpoint\":\"https://a/t\",\"authorization_endpoint\":"
        "\"javascript:x\"}",
        "{\"issuer\":\"https://a\",\"token_endpoint\":\"https://a/t\",\"registration_endpoint\":"
        "7}",
        "{\"issuer\":\"\",\"token_endpoint\":\"https://a/t\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(mcp_oauth_parse_as_metadata(bad[i], strlen(bad[i]), &m, err, sizeof err), -1,
                     "accepted %s", bad[i]);
        cr_assert_null(m.issuer);
    }
}

/* ---- token and registration responses ---- */

Test(mcp_oauth_token, success_and_error)
{
    mcp_oauth_token_t t;
    const char *j = "{\"access_token\":\"at\",\"token_type\":\"bearer\",\"expires_in\":3600,"
                    "\"refresh_token\":\"rt\",\"scope\":\"a b\"}";
    cr_assert_eq(mcp_oauth_parse_token(j, strlen(j), &t, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(t.access_token, "at");
    cr_assert_str_eq(t.refresh_token, "rt");
    cr_assert_str_eq(t.scope, "a b");
    cr_assert_eq(t.expires_in, 3600);
    cr_assert_null(t.error);
    mcp_oauth_token_free(&t);
    j = "{\"error\":\"invalid_client\",\"error_description\":\"Invalid client\"}";
    cr_assert_eq(mcp_oauth_parse_token(j, strlen(j), &t, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(t.error, "invalid_client");
    cr_assert_str_eq(t.error_description, "Invalid client");
    cr_assert_null(t.access_token);
    mcp_oauth_token_free(&t);
    j = "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"expires_in\":12.5}";
    cr_assert_eq(mcp_oauth_parse_token(j, strlen(j), &t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(t.expires_in, 12);
    mcp_oauth_token_free(&t);
}

Test(mcp_oauth_token, refused)
{
    mcp_oauth_token_t t;
    const char *bad[] = {
        "<html>",
        "{}",
        "{\"access_token\":\"at\"}",
        "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"expires_in\":\"x\"}",
        "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"refresh_token\":1}",
        "{\"access_token\":\"\",\"token_type\":\"Bearer\"}",
        "{\"error\":7}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(mcp_oauth_parse_token(bad[i], strlen(bad[i]), &t, err, sizeof err), -1,
                     "accepted %s", bad[i]);
        cr_assert_null(t.access_token);
        cr_assert_null(strstr(err, "at\""), "the error shows the token: %s", err);
    }
}

Test(mcp_oauth_registration, parsed)
{
    mcp_oauth_reg_t r;
    const char *j = "{\"client_id\":\"c\",\"client_secret\":\"s\",\"token_endpoint_auth_method\":"
                    "\"client_secret_post\",\"redirect_uris\":[]}";
    cr_assert_eq(mcp_oauth_parse_registration(j, strlen(j), &r, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(r.client_id, "c");
    cr_assert_str_eq(r.client_secret, "s");
    cr_assert_str_eq(r.token_endpoint_auth_method, "client_secret_post");
    mcp_oauth_reg_free(&r);
    j = "{\"client_id\":\"c\"}";
    cr_assert_eq(mcp_oauth_parse_registration(j, strlen(j), &r, err, sizeof err), 0, "%s", err);
    cr_assert_null(r.client_secret);
    mcp_oauth_reg_free(&r);
    j = "{\"client_secret\":\"s\"}";
    cr_assert_eq(mcp_oauth_parse_registration(j, strlen(j), &r, err, sizeof err), -1);
    j = "{\"client_id\":\"c\",\"client_secret\":[]}";
    cr_assert_eq(mcp_oauth_parse_registration(j, strlen(j), &r, err, sizeof err), -1);
}

/* ---- the redirect ---- */

Test(mcp_oauth_redirect, parameters)
{
    mcp_oauth_redirect_t r;
    cr_assert_eq(mcp_oauth_parse_redirect("http://127.0.0.1/callback?code=test-auth-code&state="
                                          "a%2Bb+c&iss=http%3A%2F%2Flocalhost%3A5&other=1#frag",
                                          &r),
                 0);
    cr_assert_str_eq(r.code, "test-auth-code");
    cr_assert_str_eq(r.state, "a+b c");
    cr_assert_str_eq(r.iss, "http://localhost:5");
    cr_assert_null(r.error);
    mcp_oauth_redirect_free(&r);
    cr_assert_eq(
        mcp_oauth_parse_redirect("/cb?error=access_denied&error_description=no&state=s", &r), 0);
    cr_assert_str_eq(r.error, "access_denied");
    cr_assert_str_eq(r.error_description, "no");
    cr_assert_null(r.code);
    mcp_oauth_redirect_free(&r);
    /* bad escapes are kept as they are */
    cr_assert_eq(mcp_oauth_parse_redirect("/cb?code=%zz%4", &r), 0);
    cr_assert_str_eq(r.code, "%zz%4");
    mcp_oauth_redirect_free(&r);
}

Test(mcp_oauth_redirect, refused)
{
    mcp_oauth_redirect_t r;
    const char *bad[] = {
        NULL,
        "http://a/cb",
        "http://a/cb#x?code=1",
        "/cb?code=1&code=2",
        "/cb?state=1&state=1",
        "/cb?iss=a&iss=a",
        "/cb?code=a%00b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(mcp_oauth_parse_redirect(bad[i], &r), -1, "accepted %s",
                     bad[i] ? bad[i] : "NULL");
        cr_assert_null(r.code);
    }
}

/* ---- URLs ---- */

Test(mcp_oauth_url, split)
{
    char *o, *p;
    cr_assert_eq(mcp_oauth_url_split("http://localhost:3/mcp?x#y", &o, &p), 0);
    cr_assert_str_eq(o, "http://localhost:3");
    cr_assert_str_eq(p, "/mcp");
    free(o);
    free(p);
    cr_assert_eq(mcp_oauth_url_split("HTTPS://Example.com", &o, &p), 0);
    cr_assert_str_eq(o, "HTTPS://Example.com");
    cr_assert_str_eq(p, "");
    free(o);
    free(p);
    cr_assert_eq(mcp_oauth_url_split("ftp://a/b", &o, &p), -1);
    cr_assert_eq(mcp_oauth_url_split("http:///b", &o, &p), -1);
    cr_assert_eq(mcp_oauth_url_split("http://a b/", &o, &p), -1);
    cr_assert_null(o);
}

Test(mcp_oauth_url, discovery_urls)
{
    char *u[3] = {0};
    cr_assert_eq(mcp_oauth_prm_urls("http://localhost:3/mcp", u), 2);
    cr_assert_str_eq(u[0], "http://localhost:3/.well-known/oauth-protected-resource/mcp");
    cr_assert_str_eq(u[1], "http://localhost:3/.well-known/oauth-protected-resource");
    free(u[0]);
    free(u[1]);
    cr_assert_eq(mcp_oauth_prm_urls("http://localhost:3/", u), 1);
    cr_assert_str_eq(u[0], "http://localhost:3/.well-known/oauth-protected-resource");
    free(u[0]);
    cr_assert_eq(mcp_oauth_prm_urls("nope", u), 0);

    cr_assert_eq(mcp_oauth_as_urls("http://localhost:4", u), 2);
    cr_assert_str_eq(u[0], "http://localhost:4/.well-known/oauth-authorization-server");
    cr_assert_str_eq(u[1], "http://localhost:4/.well-known/openid-configuration");
    free(u[0]);
    free(u[1]);
    cr_assert_eq(mcp_oauth_as_urls("http://localhost:4/tenant1/", u), 3);
    cr_assert_str_eq(u[0], "http://localhost:4/.well-known/oauth-authorization-server/tenant1");
    cr_assert_str_eq(u[1], "http://localhost:4/.well-known/openid-configuration/tenant1");
    cr_assert_str_eq(u[2], "http://localhost:4/tenant1/.well-known/openid-configuration");
    for (int i = 0; i < 3; i++) free(u[i]);
}

Test(mcp_oauth_url, resource_matches)
{
    cr_assert(mcp_oauth_resource_matches("http://localhost:3/mcp", "http://localhost:3/mcp"));
    cr_assert(mcp_oauth_resource_matches("http://localhost:3", "http://localhost:3/mcp"));
    cr_assert(mcp_oauth_resource_matches("http://localhost:3/", "http://localhost:3/mcp"));
    cr_assert(mcp_oauth_resource_matches("HTTP://LOCALHOST:3/mcp", "http://localhost:3/mcp/"));
    cr_assert(mcp_oauth_resource_matches("http://localhost:3/a", "http://localhost:3/a/b"));
    cr_assert_not(
        mcp_oauth_resource_matches("https://evil.example.com/mcp", "http://localhost:3/mcp"));
    cr_assert_not(mcp_oauth_resource_matches("http://localhost:4/mcp", "http://localhost:3/mcp"));
    cr_assert_not(mcp_oauth_resource_matches("http://localhost:3/mc", "http://localhost:3/mcp"));
    cr_assert_not(mcp_oauth_resource_matches("http://localhost:3/mcp/x", "http://localhost:3/mcp"));
    cr_assert_not(mcp_oauth_resource_matches("http://localhost:3/mcp#f", "http://localhost:3/mcp"));
    cr_assert_not(mcp_oauth_resource_matches("urn:x", "http://localhost:3/mcp"));
}

Test(mcp_oauth_url, urlencode)
{
    char *e = mcp_oauth_urlencode("a b/c:d~e_f.g-h%\xc3\xa9");
    cr_assert_str_eq(e, "a%20b%2Fc%3Ad~e_f.g-h%25%C3%A9");
    free(e);
}

/* ---- scopes ---- */

Test(mcp_oauth_scope, sets)
{
    char *u = mcp_oauth_scope_union("mcp:basic", "mcp:write mcp:basic");
    cr_assert_str_eq(u, "mcp:basic mcp:write");
    free(u);
    u = mcp_oauth_scope_union(NULL, "  a  b a ");
    cr_assert_str_eq(u, "a b");
    free(u);
    cr_assert_null(mcp_oauth_scope_union(NULL, " "));
    cr_assert(mcp_oauth_scope_subset("a", "b a"));
    cr_assert(mcp_oauth_scope_subset(NULL, NULL));
    cr_assert(mcp_oauth_scope_subset("", "x"));
    cr_assert_not(mcp_oauth_scope_subset("a c", "a b"));
    cr_assert_not(mcp_oauth_scope_subset("a", NULL));
    cr_assert(mcp_oauth_scope_has("mcp:basic offline_access", "offline_access"));
    cr_assert_not(mcp_oauth_scope_has("offline_accessx", "offline_access"));
    cr_assert_not(mcp_oauth_scope_has(NULL, "a"));
}

/* ---- base64 and PKCE ---- */

Test(mcp_oauth_b64, encodings)
{
    char out[16];
    mcp_oauth_b64url((const unsigned char *)"\xfb\xff", 2, out);
    cr_assert_str_eq(out, "-_8");
    mcp_oauth_b64url((const unsigned char *)"", 0, out);
    cr_assert_str_eq(out, "");
    char *b = mcp_oauth_b64((const unsigned char *)"a:b", 3);
    cr_assert_str_eq(b, "YTpi");
    free(b);
    b = mcp_oauth_b64((const unsigned char *)"ab", 2);
    cr_assert_str_eq(b, "YWI=");
    free(b);
    b = mcp_oauth_b64((const unsigned char *)"a", 1);
    cr_assert_str_eq(b, "YQ==");
    free(b);
}

Test(mcp_oauth_pkce, rfc7636_appendix_b)
{
    char c[44];
    mcp_oauth_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", c);
    cr_assert_str_eq(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}
