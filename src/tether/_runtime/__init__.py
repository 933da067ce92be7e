"""The runtime core: pids and refs, the scheduler, mailboxes, signals, names, timers.

Nothing in here imports from the rest of tether; behaviours, the shell and
distribution build on the public names that ``tether/__init__.py`` re-exports.
"""
