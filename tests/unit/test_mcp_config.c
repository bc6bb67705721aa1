/* The MCP_SERVERS file (workers/mcp/mcp_config.c): what it holds, precise errors, templates. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcp_config.h"

static mcp_config_t *cfg;
static mcp_config_err_t err;

static void teardown(void)
{
    mcp_config_free(&cfg);
}

TestSuite(mcp_config, .fini = teardown);

static const char *full =
    "{\"servers\":["
    " {\"name\":\"acme\",\"transport\":\"http\",\"url\":\"https://mcp.acme.example/mcp\","
    "  \"headers\":{\"Authorization\":{\"env\":\"PA_T_ACME_TOKEN\",\"prefix\":\"Bearer \"},"
    "              \"X-Team\":{\"env\":\"PA_T_TEAM\"}},"
    "  \"protocol_version\":\"2025-11-25\",\"timeout_ms\":5000,"
    "  \"tools\":{\"enrich_company\":{\"tool\":\"company_lookup\","
    "                                \"arguments\":{\"domain\":\"{{domain}}\",\"depth\":\"full\"}},"
    "            \"search_contacts\":{\"tool\":\"people\",\"arguments\":"
    "               {\"q\":\"role:cto "
    "{{query}}\",\"max\":\"{{limit}}\",\"tags\":[\"{{query}}\",1]}}}},"
    " {\"name\":\"local-1\",\"transport\":\"stdio\",\"command\":\"npx\","
    "  \"args\":[\"-y\",\"@x/server\"],\"env\":{\"API_KEY\":{\"env\":\"PA_T_LOCAL_KEY\"}},"
    "  \"tools\":{\"enrich_company\":{\"tool\":\"enrich\"}}},"
    " {\"name\":\"legacy\",\"transport\":\"sse\",\"url\":\"http://127.0.0.1:9/sse\","
    "  \"enabled\":false,\"tools\":{\"search_contacts\":{\"tool\":\"find\"}}}"
    "]}";

static void parse_ok(const char *s)
{
    mcp_config_free(&cfg);
    int rc = mcp_config_parse(s, strlen(s), &cfg, &err);
    cr_assert_eq(rc, 0, "refused: %s", err.message);
    cr_assert_not_null(cfg);
}

/* s is refused naming field, with what in the message. */
static void refused(const char *s, const char *field, const char *what)
{
    mcp_config_free(&cfg);
    cr_assert_eq(mcp_config_parse(s, strlen(s), &cfg, &err), -1, "accepted: %s", s);
    cr_assert_null(cfg);
    cr_assert_str_eq(err.field, field, "%s: field '%s' (%s)", s, err.field, err.message);
    cr_assert(strstr(err.message, what), "%s: message '%s' lacks '%s'", s, err.message, what);
    if (*field)
        cr_assert_eq(strncmp(err.message, field, strlen(field)), 0,
                     "the message does not start with the field: %s", err.message);
}

/* One server {"name":"s","transport":"http","url":"http://h/"} with extra members. */
static char *server_with(const char *extra)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"servers\":[{\"name\":\"s\",\"transport\":\"http\",\"url\":\"http://h/\"%s%s}]}",
             *extra ? "," : "", extra);
    return buf;
}

static char *stdio_with(const char *extra)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"servers\":[{\"name\":\"s\",\"transport\":\"stdio\",\"command\":\"srv\"%s%s}]}",
             *extra ? "," : "", extra);
    return buf;
}

Test(mcp_config, a_full_file)
{
    parse_ok(full);
    cr_assert_eq(cfg->nservers, 3);
    const mcp_server_conf_t *a = &cfg->servers[0], *l = &cfg->servers[1], *g = &cfg->servers[2];
    cr_assert_str_eq(a->name, "acme");
    cr_assert_eq(a->transport, MCP_TRANSPORT_HTTP);
    cr_assert_str_eq(a->url, "https://mcp.acme.example/mcp");
    cr_assert_eq(a->nheaders, 2);
    cr_assert_str_eq(a->headers[0].name, "Authorization");
    cr_assert_str_eq(a->headers[0].env, "PA_T_ACME_TOKEN");
    cr_assert_str_eq(a->headers[0].prefix, "Bearer ");
    cr_assert_str_eq(a->headers[1].prefix, "");
    cr_assert_str_eq(a->protocol_version, "2025-11-25");
    cr_assert_eq(a->timeout_ms, 5000);
    cr_assert(a->enabled);
    cr_assert_str_eq(a->tools[MCP_TOOL_ENRICH_COMPANY].tool, "company_lookup");
    cr_assert_str_eq(a->tools[MCP_TOOL_SEARCH_CONTACTS].tool, "people");

    cr_assert_eq(l->transport, MCP_TRANSPORT_STDIO);
    cr_assert_str_eq(l->command, "npx");
    cr_assert_eq(l->nargs, 2);
    cr_assert_str_eq(l->args[1], "@x/server");
    cr_assert_eq(l->nenv, 1);
    cr_assert_str_eq(l->env[0].name, "API_KEY");
    cr_assert_str_eq(l->env[0].env, "PA_T_LOCAL_KEY");
    cr_assert_null(l->url);
    cr_assert_null(l->protocol_version); /* auto */
    cr_assert_eq(l->timeout_ms, MCP_CONFIG_TIMEOUT_DEFAULT_MS);
    cr_assert_null(l->tools[MCP_TOOL_SEARCH_CONTACTS].tool);
    /* the default template */
    json_t *want = json_pack("{s:s}", "domain", "{{domain}}");
    cr_assert(json_equal(l->tools[MCP_TOOL_ENRICH_COMPANY].arguments, want));
    json_decref(want);

    cr_assert_eq(g->transport, MCP_TRANSPORT_SSE);
    cr_assert(!g->enabled);
    want = json_pack("{s:s}", "query", "{{query}}");
    cr_assert(json_equal(g->tools[MCP_TOOL_SEARCH_CONTACTS].arguments, want));
    json_decref(want);

    cr_assert_eq(mcp_config_server(cfg, "legacy"), g);
    cr_assert_null(mcp_config_server(cfg, "nope"));
    cr_assert_str_eq(mcp_transport_name(g->transport), "sse");
    cr_assert_str_eq(mcp_tool_name(MCP_TOOL_SEARCH_CONTACTS), "search_contacts");
}

Test(mcp_config, empty_list_and_versions)
{
    parse_ok("{\"servers\":[]}");
    cr_assert_eq(cfg->nservers, 0);
    cr_assert_null(mcp_config_find_tool(cfg, MCP_TOOL_ENRICH_COMPANY, NULL));
    cr_assert(mcp_protocol_version_known("2026-07-28"));
    cr_assert(mcp_protocol_version_known("2025-03-26"));
    cr_assert(!mcp_protocol_version_known("2024-11-05"));
    cr_assert(!mcp_protocol_version_known(NULL));
    cr_assert_str_eq(mcp_protocol_versions[0], "2026-07-28");
}

Test(mcp_config, servers_for_a_tool_in_file_order_enabled_only)
{
    parse_ok(full);
    size_t i = 0;
    const mcp_server_conf_t *s = mcp_config_find_tool(cfg, MCP_TOOL_ENRICH_COMPANY, &i);
    cr_assert_eq(s, &cfg->servers[0]);
    cr_assert_eq(i, 0);
    i++;
    s = mcp_config_find_tool(cfg, MCP_TOOL_ENRICH_COMPANY, &i);
    cr_assert_eq(s, &cfg->servers[1]);
    cr_assert_eq(i, 1);
    i++;
    cr_assert_null(mcp_config_find_tool(cfg, MCP_TOOL_ENRICH_COMPANY, &i));
    i = 1; /* "legacy" maps search_contacts but is disabled */
    cr_assert_null(mcp_config_find_tool(cfg, MCP_TOOL_SEARCH_CONTACTS, &i));
    cr_assert_eq(mcp_config_find_tool(cfg, MCP_TOOL_SEARCH_CONTACTS, NULL), &cfg->servers[0]);
    cr_assert_null(mcp_config_find_tool(cfg, MCP_TOOL_COUNT, NULL));
}

Test(mcp_config, the_file_as_a_whole)
{
    refused("", "", "not JSON: line");
    refused("{\"servers\":[],}", "", "not JSON");
    refused("[]", "", "must be a JSON object");
    refused("{}", "servers", "is required");
    refused("{\"servers\":{}}", "servers", "must be an array");
    refused("{\"servers\":[],\"extra\":1}", "extra", "unknown field");
    refused("{\"servers\":[],\"servers\":[]}", "", "duplicate");
    refused("{\"servers\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "",
            "nested deeper than 32");
    char many[4096] = "{\"servers\":[";
    for (int i = 0; i < MCP_CONFIG_MAX_SERVERS + 1; i++) strcat(many, i ? ",{}" : "{}");
    strcat(many, "]}");
    refused(many, "servers", "at most 32");
}

Test(mcp_config, server_fields)
{
    refused("{\"servers\":[7]}", "servers[0]", "must be an object");
    refused(server_with("\"colour\":\"red\""), "servers[0].colour", "unknown field");
    refused("{\"servers\":[{\"transport\":\"http\",\"url\":\"http://h/\"}]}", "servers[0].name",
            "is required");
    refused("{\"servers\":[{\"name\":\"Big\",\"transport\":\"http\",\"url\":\"http://h/\"}]}",
            "servers[0].name", "a-z 0-9 _ -");
    refused("{\"servers\":[{\"name\":\"\",\"transport\":\"http\",\"url\":\"http://h/\"}]}",
            "servers[0].name", "must be a string of 1 to 64 bytes");
    refused("{\"servers\":[{\"name\":\"a\",\"transport\":\"http\",\"url\":\"http://h/\"},"
            "{\"name\":\"a\",\"transport\":\"stdio\",\"command\":\"x\"}]}",
            "servers[1].name", "already the name of servers[0]");
    refused("{\"servers\":[{\"name\":\"a\",\"url\":\"http://h/\"}]}", "servers[0].transport",
            "is required");
    refused("{\"servers\":[{\"name\":\"a\",\"transport\":\"websocket\"}]}", "servers[0].transport",
            "must be \"http\", \"sse\" or \"stdio\"");
    refused("{\"servers\":[{\"name\":\"a\",\"transport\":\"http\"}]}", "servers[0].url",
            "is required");
    refused("{\"servers\":[{\"name\":\"a\",\"transport\":\"sse\",\"url\":\"ftp://h/\"}]}",
            "servers[0].url", "http:// or https://");
    refused("{\"servers\":[{\"name\":\"a\",\"transport\":\"http\",\"url\":\"http:///x\"}]}",
            "servers[0].url", "with a host");
    refused("{\"servers\":[{\"name\":\"a\",\"transport\":\"http\",\"url\":\"http://h/a b\"}]}",
            "servers[0].url", "no spaces");
    refused("{\"servers\":[{\"name\":\"a\",\"transport\":\"http\",\"url\":\"http://h/\\n\"}]}",
            "servers[0].url", "control characters");
    refused(server_with("\"command\":\"x\""), "servers[0].command", "only for the stdio transport");
    refused(server_with("\"args\":[]"), "servers[0].args", "only for the stdio transport");
    refused(server_with("\"env\":{}"), "servers[0].env", "only for the stdio transport");
    refused(stdio_with("\"url\":\"http://h/\""), "servers[0].url", "only for the http and sse");
    refused(stdio_with("\"headers\":{}"), "servers[0].headers", "only for the http and sse");
    refused("{\"servers\":[{\"name\":\"a\",\"transport\":\"stdio\"}]}", "servers[0].command",
            "is required");
    refused(stdio_with("\"args\":\"-y\""), "servers[0].args", "must be an array");
    refused(stdio_with("\"args\":[\"ok\",3]"), "servers[0].args[1]", "must be a string");
    refused(server_with("\"protocol_version\":\"2024-11-05\""), "servers[0].protocol_version",
            "must be \"auto\", \"2026-07-28\", \"2025-11-25\"");
    refused(server_with("\"timeout_ms\":0"), "servers[0].timeout_ms", "from 1 to 600000");
    refused(server_with("\"timeout_ms\":\"5s\""), "servers[0].timeout_ms", "from 1 to 600000");
    refused(server_with("\"enabled\":1"), "servers[0].enabled", "must be true or false");
    parse_ok(server_with("\"protocol_version\":\"auto\",\"timeout_ms\":600000"));
    cr_assert_null(cfg->servers[0].protocol_version);
    cr_assert_eq(cfg->servers[0].timeout_ms, 600000);
}

Test(mcp_config, credentials_by_variable_name_only)
{
    refused(server_with("\"headers\":{\"Authorization\":\"Bearer sk-123\"}"),
            "servers[0].headers.Authorization", "never written in this file");
    refused(stdio_with("\"env\":{\"API_KEY\":\"sk-123\"}"), "servers[0].env.API_KEY",
            "never written in this file");
    refused(server_with("\"headers\":[]"), "servers[0].headers", "must be an object");
    refused(server_with("\"headers\":{\"Authorization\":{}}"),
            "servers[0].headers.Authorization.env", "is required");
    refused(server_with("\"headers\":{\"Authorization\":{\"env\":\"1BAD\"}}"),
            "servers[0].headers.Authorization.env", "not a variable name");
    refused(server_with("\"headers\":{\"Authorization\":{\"env\":\"T\",\"value\":\"x\"}}"),
            "servers[0].headers.Authorization.value", "unknown field");
    refused(server_with("\"headers\":{\"X\":{\"env\":\"T\",\"prefix\":\"a\\r\\nEvil: 1\"}}"),
            "servers[0].headers.X.prefix", "control characters");
    refused(server_with("\"headers\":{\"Bad Name\":{\"env\":\"T\"}}"),
            "servers[0].headers.Bad Name", "not a header name");
    refused(server_with("\"headers\":{\"Mcp-Session-Id\":{\"env\":\"T\"}}"),
            "servers[0].headers.Mcp-Session-Id", "the client sets this header");
    refused(server_with("\"headers\":{\"mcp-param-region\":{\"env\":\"T\"}}"),
            "servers[0].headers.mcp-param-region", "the client sets this header");
    refused(server_with("\"headers\":{\"X-A\":{\"env\":\"T\"},\"x-a\":{\"env\":\"U\"}}"),
            "servers[0].headers.x-a", "named twice");
    refused(stdio_with("\"env\":{\"A-B\":{\"env\":\"T\"}}"), "servers[0].env.A-B",
            "not a variable name");
}

Test(mcp_config, tool_mappings_and_templates)
{
    refused(server_with("\"tools\":[]"), "servers[0].tools", "must be an object");
    refused(server_with("\"tools\":{\"enrich\":{}}"), "servers[0].tools.enrich", "unknown field");
    refused(server_with("\"tools\":{\"enrich_company\":\"lookup\"}"),
            "servers[0].tools.enrich_company", "must be an object {tool, arguments?}");
    refused(server_with("\"tools\":{\"enrich_company\":{}}"),
            "servers[0].tools.enrich_company.tool", "is required");
    refused(server_with("\"tools\":{\"enrich_company\":{\"tool\":\"x\",\"args\":{}}}"),
            "servers[0].tools.enrich_company.args", "unknown field");
    refused(server_with("\"tools\":{\"enrich_company\":{\"tool\":\"x\",\"arguments\":[]}}"),
            "servers[0].tools.enrich_company.arguments", "must be an object");
    refused(server_with("\"tools\":{\"enrich_company\":{\"tool\":\"x\","
                        "\"arguments\":{\"q\":\"{{query}}\"}}}"),
            "servers[0].tools.enrich_company.arguments.q",
            "unknown placeholder {{query}} (enrich_company has {{domain}})");
    refused(server_with("\"tools\":{\"search_contacts\":{\"tool\":\"x\","
                        "\"arguments\":{\"f\":{\"l\":[1,\"{{limit}} {{domian}}\"]}}}}"),
            "servers[0].tools.search_contacts.arguments.f.l[1]", "unknown placeholder {{domian}}");
    refused(server_with("\"tools\":{\"search_contacts\":{\"tool\":\"x\","
                        "\"arguments\":{\"q\":\"{{query\"}}}"),
            "servers[0].tools.search_contacts.arguments.q", "not closed");
}

static json_t *render(const char *tmpl, const char *vars)
{
    json_t *t = json_loads(tmpl, 0, NULL), *v = json_loads(vars, 0, NULL);
    cr_assert(t && v);
    char e[128];
    json_t *r = mcp_config_render_args(t, v, e, sizeof e);
    json_decref(t);
    json_decref(v);
    return r;
}

static void renders(const char *tmpl, const char *vars, const char *want)
{
    json_t *r = render(tmpl, vars);
    cr_assert_not_null(r, "%s", tmpl);
    char *got = json_dumps(r, JSON_COMPACT);
    cr_assert_str_eq(got, want);
    free(got);
    json_decref(r);
}

Test(mcp_config, rendering_arguments)
{
    renders("{\"domain\":\"{{domain}}\",\"depth\":\"full\",\"n\":2}", "{\"domain\":\"acme.io\"}",
            "{\"domain\":\"acme.io\",\"depth\":\"full\",\"n\":2}");
    /* a whole placeholder keeps the value's type; absent or null leaves the member out */
    renders("{\"q\":\"{{query}}\",\"max\":\"{{limit}}\"}", "{\"query\":\"cto\",\"limit\":5}",
            "{\"q\":\"cto\",\"max\":5}");
    renders("{\"q\":\"{{query}}\",\"max\":\"{{limit}}\"}", "{\"query\":\"cto\"}",
            "{\"q\":\"cto\"}");
    renders("{\"q\":\"{{query}}\",\"max\":\"{{limit}}\"}", "{\"query\":\"cto\",\"limit\":null}",
            "{\"q\":\"cto\"}");
    /* inside text: the value's text, nothing when absent */
    renders("{\"q\":\"role:{{query}} max={{limit}}{{limit}}!\"}",
            "{\"query\":\"a\\\"b\",\"limit\":3}", "{\"q\":\"role:a\\\"b max=33!\"}");
    renders("{\"q\":\"[{{limit}}]\",\"b\":\"{{x}}\"}", "{\"x\":true}", "{\"q\":\"[]\",\"b\":true}");
    renders("{\"list\":[\"{{query}}\",\"{{limit}}\",{\"d\":\"{{query}}.\"}]}",
            "{\"query\":\"q\",\"limit\":0.5}", "{\"list\":[\"q\",0.5,{\"d\":\"q.\"}]}");
    renders("{\"k\":\"{{limit}} items\"}", "{\"limit\":{\"a\":1}}",
            "{\"k\":\"{\\\"a\\\":1} items\"}");
    /* the template itself is unchanged */
    json_t *t = json_pack("{s:s}", "d", "{{domain}}"), *v = json_pack("{s:s}", "domain", "x");
    json_t *r = mcp_config_render_args(t, v, NULL, 0);
    cr_assert_str_eq(json_string_value(json_object_get(t, "d")), "{{domain}}");
    cr_assert_str_eq(json_string_value(json_object_get(r, "d")), "x");
    json_decref(r);
    json_decref(t);
    json_decref(v);
    /* malformed templates (not from a loaded file) */
    cr_assert_null(render("{\"q\":\"a {{query\"}", "{}"));
    cr_assert_null(render("[\"{{query}}\"]", "{}"));
}

Test(mcp_config, environment_at_use_time)
{
    parse_ok(full);
    unsetenv("PA_T_ACME_TOKEN");
    unsetenv("PA_T_TEAM");
    unsetenv("PA_T_LOCAL_KEY");
    cr_assert_eq(mcp_config_check_env(cfg, &err), -1);
    cr_assert_str_eq(err.field, "servers[0].headers.Authorization.env");
    cr_assert(strstr(err.message, "PA_T_ACME_TOKEN is not set"), "%s", err.message);
    setenv("PA_T_ACME_TOKEN", "sk-secret", 1);
    setenv("PA_T_TEAM", "sales", 1);
    cr_assert_eq(mcp_config_check_env(cfg, &err), -1);
    cr_assert_str_eq(err.field, "servers[1].env.API_KEY.env");
    setenv("PA_T_LOCAL_KEY", "k\r\nX: y", 1);
    cr_assert_eq(mcp_config_check_env(cfg, &err), -1);
    cr_assert(strstr(err.message, "control character"), "%s", err.message);
    cr_assert(!strstr(err.message, "X: y"), "a value in a message: %s", err.message);
    cr_assert_null(mcp_env_ref_value(&cfg->servers[1].env[0]));
    setenv("PA_T_LOCAL_KEY", "k", 1);
    cr_assert_eq(mcp_config_check_env(cfg, &err), 0, "%s", err.message);
    char *h = mcp_env_ref_value(&cfg->servers[0].headers[0]);
    cr_assert_str_eq(h, "Bearer sk-secret");
    free(h);
    /* a disabled server's variables are not needed */
    parse_ok("{\"servers\":[{\"name\":\"d\",\"transport\":\"http\",\"url\":\"http://h/\","
             "\"enabled\":false,\"headers\":{\"X\":{\"env\":\"PA_T_UNSET_VAR\"}}}]}");
    unsetenv("PA_T_UNSET_VAR");
    cr_assert_eq(mcp_config_check_env(cfg, &err), 0);
}

Test(mcp_config, loads_a_file)
{
    char path[] = "/tmp/pa-mcp-config-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, full, strlen(full)), (ssize_t)strlen(full));
    close(fd);
    cr_assert_eq(mcp_config_load_file(path, &cfg, &err), 0, "%s", err.message);
    cr_assert_eq(cfg->nservers, 3);
    mcp_config_free(&cfg);
    FILE *f = fopen(path, "w");
    fputs("{\"servers\":[{\"name\":\"x\"}]}", f);
    fclose(f);
    cr_assert_eq(mcp_config_load_file(path, &cfg, &err), -1);
    cr_assert_str_eq(err.field, "servers[0].transport");
    cr_assert(strncmp(err.message, path, strlen(path)) == 0, "%s", err.message);
    unlink(path);
    cr_assert_eq(mcp_config_load_file(path, &cfg, &err), -1);
    cr_assert(strstr(err.message, "No such file"), "%s", err.message);
    cr_assert_null(cfg);
}

Test(mcp_config, oauth_of_a_remote_server)
{
    parse_ok(server_with("\"oauth\":{\"client_id\":\"prospect\",\"client_secret\":{\"env\":"
                         "\"S_SECRET\"},\"client_credentials\":true,\"scope\":\"mcp:read\"}"));
    const mcp_oauth_conf_t *a = &cfg->servers[0].oauth;
    cr_assert(a->on && a->client_credentials);
    cr_assert_str_eq(a->client_id, "prospect");
    cr_assert_str_eq(a->client_secret.env, "S_SECRET");
    cr_assert_str_eq(a->scope, "mcp:read");
    cr_assert_null(a->redirect_uri);
    parse_ok(server_with("\"oauth\":{}"));
    cr_assert(cfg->servers[0].oauth.on && !cfg->servers[0].oauth.client_id);
    parse_ok(server_with(""));
    cr_assert_not(cfg->servers[0].oauth.on);
    refused(server_with("\"oauth\":{\"client_id\":\"x\",\"client_secret\":\"s3cret\"}"),
            "servers[0].oauth.client_secret", "never written in this file");
    refused(server_with("\"oauth\":{\"client_secret\":{\"env\":\"S\"}}"),
            "servers[0].oauth.client_secret", "needs client_id");
    refused(server_with("\"oauth\":{\"client_id\":\"x\",\"client_credentials\":true}"),
            "servers[0].oauth.client_credentials", "needs client_id and client_secret");
    refused(server_with("\"oauth\":{\"redirect_uri\":\"ftp://x/\"}"),
            "servers[0].oauth.redirect_uri", "http:// or https://");
    refused(server_with("\"oauth\":{\"token\":\"x\"}"), "servers[0].oauth.token", "unknown field");
    refused(server_with("\"oauth\":true"), "servers[0].oauth", "must be an object");
    refused(stdio_with("\"oauth\":{}"), "servers[0].oauth", "only for the http and sse");
    /* the secret's variable must be set, at start */
    parse_ok(server_with("\"oauth\":{\"client_id\":\"x\",\"client_secret\":{\"env\":"
                         "\"PA_TEST_OAUTH_SECRET_UNSET\"}}"));
    unsetenv("PA_TEST_OAUTH_SECRET_UNSET");
    cr_assert_eq(mcp_config_check_env(cfg, &err), -1);
    cr_assert_str_eq(err.field, "servers[0].oauth.client_secret.env");
    setenv("PA_TEST_OAUTH_SECRET_UNSET", "v", 1);
    cr_assert_eq(mcp_config_check_env(cfg, &err), 0, "%s", err.message);
    unsetenv("PA_TEST_OAUTH_SECRET_UNSET");
}
