/* stub: being written */
typedef int gw_config_unused_t;
