/* The HTTP headers MCP 2026-07-28 derives from a request (SEP-2243): Mcp-Name's value, and the
 * Mcp-Param-* headers mirroring the tool parameters a tool's inputSchema marks with
 * "x-mcp-header". Pure functions on jansson, no I/O (unit-tested and fuzzed).
 *
 * Values: a string goes as it is when every byte is printable ASCII (0x20..0x7E) and it neither
 * starts nor ends with a blank; else (non-ASCII, control characters, CR/LF, tab, a space at
 * either end) as "=?base64?<Base64 of its UTF-8 bytes>?=". An integer goes as its decimal text,
 * a boolean as "true" or "false"; a null or absent argument sends no header.
 *
 * A tool's annotations are valid when each "x-mcp-header" of its inputSchema's top-level
 * properties is a non-empty string of RFC 9110 token characters (no space, colon, control or
 * non-ASCII byte), on a property whose "type" is "string", "integer" or "boolean", and no two
 * of them are equal ignoring case. A client leaves out the tools whose annotations are not. */
#ifndef MCP_HEADERS_H
#define MCP_HEADERS_H
#include <jansson.h>
#include <stddef.h>

#include "pa_buf.h"

#define MCP_HEADER_NAME_MAX 64 /* bytes of an x-mcp-header name */

/* 1 when s[0..n) may be sent as a header value unchanged (see above). */
int mcp_header_value_plain(const char *s, size_t n);
/* Appends the header value for the text s[0..n): plain, or the Base64 form. */
void mcp_header_value_encode(pa_buf_t *out, const char *s, size_t n);
/* Appends the header value of one argument: 0; 1 when v is NULL or null (nothing appended: no
 * header); -1 when v is an object or an array. A real goes as its shortest exact text. */
int mcp_param_value(pa_buf_t *out, const json_t *v);
/* 1 when name is a valid x-mcp-header name (1..MCP_HEADER_NAME_MAX token characters). */
int mcp_header_name_valid(const char *name);
/* 0 when the tool's x-mcp-header annotations are valid (also when it has none), else -1 with
 * the reason in err. A tool without an object inputSchema has none. */
int mcp_tool_headers_check(const json_t *tool, char *err, size_t errlen);
/* The header lines for a tools/call of tool with arguments: "Mcp-Param-<Name>: <value>" (an
 * empty value as "Mcp-Param-<Name>;", libcurl's form for an empty header), in the order of the
 * schema's properties, in a new NULL-terminated array (free with mcp_header_lines_free); *n is
 * their number. The tool must have passed mcp_tool_headers_check. Never NULL. */
char **mcp_tool_param_headers(const json_t *tool, const json_t *arguments, size_t *n);
void mcp_header_lines_free(char **lines);

#endif
