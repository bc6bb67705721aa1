/* stub: being written */
typedef int gw_campaigns_api_unused_t;
