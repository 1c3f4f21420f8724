/** The sync points a plan may stop at (OP_READY's value), shared by the planners and the runtime. */
export const Ready = { USERNS: 1, HOOKS: 2, CONSOLE: 3, CREATED: 4 } as const;
