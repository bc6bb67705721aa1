/* stub: being written */
typedef int gw_metrics_unused_t;
