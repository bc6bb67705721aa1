/* stub: being written */
typedef int gw_prospects_api_unused_t;
