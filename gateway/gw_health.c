/* stub: being written */
typedef int gw_health_unused_t;
