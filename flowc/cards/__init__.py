"""Cards: HTML reports of a task made by its own code (Metaflow's ``metaflow.cards``).

:mod:`flowc.cards.store` says where they live in the datastore.
"""
