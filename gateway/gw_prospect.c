/* stub: being written */
typedef int gw_prospect_unused_t;
