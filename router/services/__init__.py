"""The use cases, one service each, with their dependencies passed in (see `router.wiring`):
calendar, cases, teams, handover, deadlines, outbox, links, helpdesks. The API, the
console, the jobs and the command line call these; none of them talks to the store directly."""
