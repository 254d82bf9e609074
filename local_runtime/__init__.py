"""The local runtime: the real template, ASL and handlers on moto, with a virtual clock.

No AWS account and no Docker: moto emulates the services in-process, moto's Step Functions
interpreter runs the watcher's ASL, and the fidelity gaps DESIGN.md lists are closed here,
never in the ASL or the handlers. `python -m local_runtime --help` lists the commands.
"""
