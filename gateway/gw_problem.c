/* stub: being written */
typedef int gw_problem_unused_t;
