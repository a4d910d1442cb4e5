"""The job engine: a persistent, fair queue that runs jobs on ComfyUI hosts and delivers them.

`core.Engine` is the front ends' API (they reach it through `bot.frontend`); the rest of the
package keeps the jobs (`store`, `ledger`, `jobs`), picks who runs next (`scheduler`, `hosts`),
runs and settles them (`runs`, `delivery`, `recovery`) and tells users where they stand
(`positions`, `eta`, `events`).
"""
