"""The live Trio tasks of a test run, for the checks that no task of ours is left behind."""

from __future__ import annotations

import trio


def all_tasks() -> list[trio.lowlevel.Task]:
    """Every live task of this run, from the root task down through every nursery."""
    tasks: list[trio.lowlevel.Task] = []

    def walk(task: trio.lowlevel.Task) -> None:
        tasks.append(task)
        for nursery in task.child_nurseries:
            for child in nursery.child_tasks:
                walk(child)

    root = trio.lowlevel.current_root_task()
    assert root is not None
    walk(root)
    return tasks
