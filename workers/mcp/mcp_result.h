/* The mcp worker's pure parts (no I/O): what a tool's result means to the pipeline, the domain
 * of a target, a call's arguments checked against a tool's input schema, and the cache key of a
 * call. Unit-tested in tests/unit/test_mcp_result.c. */
#ifndef MCP_RESULT_H
#define MCP_RESULT_H
#include <jansson.h>
#include <stddef.h>

/* The JSON value a tools/call result stands for: its structuredContent when it has one (an
 * object or array); else the text of its content's text items (joined by "\n") parsed as JSON
 * when that is an object or array; else {"text": that text} when there is text; else NULL.
 * A new reference (caller decrefs). */
json_t *mcp_result_value(const json_t *result);

/* The result's ttlMs (a whole number >= 0) in *ttl_ms: 1 when it has one, else 0. */
int mcp_result_ttl_ms(const json_t *result, long long *ttl_ms);

/* The company's domain for enrich_company: the host of the target URL (else of input.website,
 * else the part after '@' of input.email), lowercased, without a trailing dot, a port or a
 * leading "www."; written to out (n bytes). 0, or -1 when none can be found (out ""). */
int mcp_domain_of(const char *target, const json_t *input, char *out, size_t n);

/* 1 when s is a domain name as the API takes one (1 to 253 characters, labels of a-z 0-9 -
 * (any case) separated by dots, at least two labels, none empty or starting or ending with -). */
int mcp_domain_valid(const char *s);

/* Checks arguments (an object) against a tool's inputSchema (a JSON Schema object), as far as a
 * caller's mistakes are concerned: every name in "required" is present, and a property whose
 * schema has a "type" (a string or an array of strings: object, array, string, number, integer,
 * boolean, null) holds a value of that type; unknown properties are refused when the schema says
 * "additionalProperties": false. 0, or -1 with err naming the field ("arguments.domain: is
 * required"). A schema that is not an object checks nothing. */
int mcp_args_check(const json_t *schema, const json_t *arguments, char *err, size_t errlen);

/* The cache key of a call: <prefix>mcp:cache:<server>:<tool>:<SHA-256 hex of the arguments'
 * canonical JSON (keys sorted, compact, UTF-8 as is)> into out. The tool name is hashed too when
 * it holds characters other than A-Z a-z 0-9 _ - . (so a key never holds ':' or a blank from a
 * name). 0, or -1 when it does not fit or libcrypto failed. */
#define MCP_CACHE_KEY_MAX 256
int mcp_cache_key(const char *prefix, const char *server, const char *tool, const json_t *arguments,
                  char *out, size_t outlen);

/* The Redis key of an OAuth token store entry (mcp_oauth_cfg_t.store's key, which names a
 * server URL): <prefix>mcp:oauth:<server>:<SHA-256 hex of key>. 0, or -1 when it does not fit. */
int mcp_oauth_store_key(const char *prefix, const char *server, const char *key, char *out,
                        size_t outlen);

#endif
