/* MCP_SERVERS: the JSON file naming the MCP servers the mcp worker uses. Pure (no I/O but
 * mcp_config_load_file's read and mcp_config_check_env's getenv).
 *
 * {
 *   "servers": [
 *     {
 *       "name": "acme",                         1 to 64 of a-z 0-9 _ - (unique)
 *       "transport": "http",                    "http" (Streamable HTTP) | "sse" (legacy
 *                                               HTTP+SSE) | "stdio"
 *       "url": "https://mcp.acme.example/mcp",  http and sse: an http:// or https:// URL
 *       "command": "npx", "args": ["-y", "x"],  stdio: the program and its arguments
 *       "env": {"ACME_KEY": {"env": "PA_ACME_KEY"}},            stdio: the child's variables
 *       "headers": {"Authorization": {"env": "ACME_TOKEN", "prefix": "Bearer "}},  http, sse
 *       "protocol_version": "auto",             "auto" (default: the newest the server takes)
 *                                               or one revision (mcp_protocol_versions)
 *       "timeout_ms": 30000,                    1 to 600000 per call (default 30000)
 *       "oauth": {"client_id": "x", "client_secret": {"env": "X_SECRET"},
 *                 "client_credentials": true},  http, sse: authorization (mcp_oauth_conf_t)
 *       "enabled": true,
 *       "tools": {
 *         "enrich_company":  {"tool": "company_lookup", "arguments": {"domain": "{{domain}}"}},
 *         "search_contacts": {"tool": "people", "arguments": {"q": "{{query}}",
 *                                                            "max": "{{limit}}"}}
 *       }
 *     }
 *   ]
 * }
 *
 * Secrets are never in the file: a header's or a child variable's value is always
 * {"env": NAME, "prefix"?: TEXT}, the value of the environment variable NAME at use time
 * (after prefix). Headers the client sets itself (Content-Type, Accept, Host, Content-Length,
 * Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID, Mcp-Param-*) may
 * not be configured.
 *
 * Argument templates: the tool's arguments, any JSON, in which strings may hold placeholders,
 * {{domain}} for enrich_company and {{query}} and {{limit}} for search_contacts. A string that is
 * exactly one placeholder takes the variable's JSON value (a number stays a number) and, when
 * the variable is absent or null, the member (or array element) is left out; a placeholder
 * inside text is replaced by the value's text (absent or null: nothing). Without "arguments" a
 * mapping sends {"domain": "{{domain}}"} or {"query": "{{query}}"}.
 *
 * Errors name the field the way the gateway's problems do: "servers[0].url: must be an http://
 * or https:// URL". Unknown fields are errors. */
#ifndef MCP_CONFIG_H
#define MCP_CONFIG_H
#include <jansson.h>
#include <stddef.h>

#define MCP_CONFIG_MAX_BYTES ((size_t)1 << 20)
#define MCP_CONFIG_MAX_DEPTH 32
#define MCP_CONFIG_MAX_SERVERS 32
#define MCP_CONFIG_MAX_NAME 64
#define MCP_CONFIG_MAX_URL 2048
#define MCP_CONFIG_MAX_ARGS 64
#define MCP_CONFIG_MAX_HEADERS 32
#define MCP_CONFIG_TIMEOUT_DEFAULT_MS 30000

/* The revisions the client speaks, newest first, NULL-terminated. */
extern const char *const mcp_protocol_versions[];
/* 1 when v is one of them. */
int mcp_protocol_version_known(const char *v);

typedef enum { MCP_TRANSPORT_HTTP = 0, MCP_TRANSPORT_SSE, MCP_TRANSPORT_STDIO } mcp_transport_t;
const char *mcp_transport_name(mcp_transport_t t);

/* The pipeline's tools, and their template variables. */
typedef enum { MCP_TOOL_ENRICH_COMPANY = 0, MCP_TOOL_SEARCH_CONTACTS, MCP_TOOL_COUNT } mcp_tool_t;
const char *mcp_tool_name(mcp_tool_t t);

/* A value taken from the environment: name (the header or the child's variable), env (the
 * variable to read), prefix ("" when none). */
typedef struct {
    char *name;
    char *env;
    char *prefix;
} mcp_env_ref_t;

typedef struct {
    char *tool;        /* NULL: the server does not offer this pipeline tool */
    json_t *arguments; /* the template (owned) */
} mcp_tool_map_t;

/* "oauth" of a remote server (the MCP authorization specification; mcp_oauth.h does the flow):
 * {"client_id"?: TEXT, "client_secret"?: {"env": NAME}, "client_credentials"?: BOOL,
 *  "scope"?: TEXT, "client_metadata_url"?: URL, "redirect_uri"?: URL}. Without client_id the
 * client registers itself (a client ID metadata document when client_metadata_url is given and
 * the server supports them, else dynamic registration); client_secret needs client_id;
 * client_credentials (machine to machine) needs both. */
typedef struct {
    int on; /* the server has "oauth" */
    char *client_id;
    mcp_env_ref_t client_secret; /* env NULL: none */
    int client_credentials;
    char *scope;
    char *client_metadata_url;
    char *redirect_uri;
} mcp_oauth_conf_t;

typedef struct {
    char *name;
    mcp_transport_t transport;
    char *url;     /* http, sse */
    char *command; /* stdio */
    char **args;
    size_t nargs;
    mcp_env_ref_t *headers; /* http, sse */
    size_t nheaders;
    mcp_env_ref_t *env; /* stdio */
    size_t nenv;
    char *protocol_version; /* NULL: auto */
    long timeout_ms;
    int enabled;
    mcp_tool_map_t tools[MCP_TOOL_COUNT];
    mcp_oauth_conf_t oauth; /* http and sse */
} mcp_server_conf_t;

typedef struct {
    mcp_server_conf_t *servers;
    size_t nservers;
} mcp_config_t;

/* What is wrong, and where: field is the path ("servers[1].tools.enrich_company.tool"; empty
 * for the file as a whole), message the whole sentence, starting with the field. */
typedef struct {
    char field[192];
    char message[512];
} mcp_config_err_t;

/* Parses and validates the text of an MCP_SERVERS file. 0 with *out (free with
 * mcp_config_free), or -1 with *out NULL and err filled. */
int mcp_config_parse(const char *text, size_t len, mcp_config_t **out, mcp_config_err_t *err);
/* Reads path (at most MCP_CONFIG_MAX_BYTES) and parses it; errors name the path. */
int mcp_config_load_file(const char *path, mcp_config_t **out, mcp_config_err_t *err);
void mcp_config_free(mcp_config_t **c);

/* The first enabled server that maps t, from index *from on (file order is the order of
 * preference; pass 0, then the returned index + 1 for the next). NULL when none. */
const mcp_server_conf_t *mcp_config_find_tool(const mcp_config_t *c, mcp_tool_t t, size_t *from);
const mcp_server_conf_t *mcp_config_server(const mcp_config_t *c, const char *name);

/* Every environment variable an enabled server names is set: 0, or -1 with err naming the field
 * and the variable (never a value). */
int mcp_config_check_env(const mcp_config_t *c, mcp_config_err_t *err);
/* The value of ref: prefix + getenv(env), in a new string (free it); NULL when unset. */
char *mcp_env_ref_value(const mcp_env_ref_t *ref);

/* Renders a template with vars (an object: {"domain": ...} or {"query": ..., "limit": ...}):
 * a new value, or NULL with err set when the template is not well-formed (the parser has
 * already refused those in a loaded file). */
json_t *mcp_config_render_args(const json_t *tmpl, const json_t *vars, char *err, size_t errlen);

#endif
