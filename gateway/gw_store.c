/* stub: being written */
typedef int gw_store_unused_t;
