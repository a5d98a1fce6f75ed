"""Pure decisions of the cluster tier: what a live object's state means, what to probe, what to wait for.

Every function here takes API objects as plain dicts (the JSON kubectl prints) and returns records; no
I/O, no clock. The thin shells in `dbc_validate.cluster` fetch the objects and act on the answers.
"""
