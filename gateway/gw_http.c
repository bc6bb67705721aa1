/* stub: being written */
typedef int gw_http_unused_t;
