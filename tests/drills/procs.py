"""Reading the process tree from /proc (Linux): which processes a given one started."""

from pathlib import Path


def children(pid: int) -> dict[int, str]:
    """The live children of ``pid``: pid → command line (arguments joined by spaces)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # exited meanwhile
        # The command name (2nd field) is in parentheses and may hold spaces: the fields after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        state, ppid = fields[0], int(fields[1])
        if ppid == pid and state != "Z":
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def child_running(pid: int, marker: str) -> int | None:
    """The pid of the one child of ``pid`` whose command line holds ``marker``, if any."""
    matches = [child for child, cmdline in children(pid).items() if marker in cmdline]
    assert len(matches) <= 1, f"more than one child with {marker!r}: {children(pid)}"
    return matches[0] if matches else None
