# SPDX-License-Identifier: AGPL-3.0-or-later
"""The Synapse adapter: the one place that touches Synapse beyond its public ModuleApi.

Organised by Synapse subsystem; a Synapse upgrade that moves any of these should need
changes here only (docs/upgrading.md):

- errors.py    public error types (re-exported from synapse.module_api.errors)
- patches.py   every replacement of a Synapse method, checked at start-up
- tables.py    every SQL statement on Synapse's own tables (each has a test)
- accounts.py  account control (locking, deactivation, passwords, devices)
- rooms.py     room list, read markers, server notices, room versions
- events.py    persisted events and the event stream
- media.py     the local media repository
- database.py  engine, isolation level, maintenance of the shared database
- http.py      the request being handled (log context, client disconnects)
- runtime.py   log contexts, threads, background loops, locks, Redis counters
"""
