/* stub: being written */
typedef int gw_import_unused_t;
